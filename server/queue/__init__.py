"""The rules of the queue as pure Python: no Flask, no SQLAlchemy, no I/O."""

from .errors import DailyCapReached, InvalidTransition, NumberRangeExhausted, QueueRuleError
from .states import ACTIVE_STATES, Action, TicketState, transition

__all__ = [
    "ACTIVE_STATES",
    "Action",
    "DailyCapReached",
    "InvalidTransition",
    "NumberRangeExhausted",
    "QueueRuleError",
    "TicketState",
    "transition",
]
