"""Domain errors raised by the queue rules."""


class QueueRuleError(Exception):
    """A rule of the queue forbids what was asked."""

    code = "queue_rule"


class InvalidTransition(QueueRuleError):
    """A ticket cannot go from its current state by the requested action."""

    code = "invalid_transition"

    def __init__(self, state, action):
        self.state = state
        self.action = action
        super().__init__(f"a ticket that is '{state.value}' cannot be {action.past}")


class DailyCapReached(QueueRuleError):
    """The service has issued as many tickets today as it may."""

    code = "daily_cap_reached"


class NumberRangeExhausted(QueueRuleError):
    """Every number of the service's range is held by an active ticket."""

    code = "number_range_exhausted"
