"""Ticket states and the transitions allowed between them."""

from __future__ import annotations

import enum

from .errors import InvalidTransition

# A counter's state -> the event a change to it is logged as.
COUNTER_STATE_EVENTS = {"open": "counter_opened", "paused": "counter_paused", "closed": "counter_closed"}


class TicketState(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    PARKED = "parked"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class Action(enum.StrEnum):
    CALL = "call"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no-show"
    REQUEUE = "requeue"
    PARK = "park"
    CANCEL = "cancel"
    TRANSFER = "transfer"

    @property
    def past(self) -> str:
        return _PAST[self]


_PAST = {
    Action.CALL: "called",
    Action.RECALL: "recalled",
    Action.START: "started",
    Action.FINISH: "finished",
    Action.NO_SHOW: "marked as no-show",
    Action.REQUEUE: "requeued",
    Action.PARK: "parked",
    Action.CANCEL: "cancelled",
    Action.TRANSFER: "transferred",
}

W, C, S, P = TicketState.WAITING, TicketState.CALLED, TicketState.SERVING, TicketState.PARKED

# (state, action) -> new state. Everything not listed is forbidden (HTTP 409).
TRANSITIONS: dict[tuple[TicketState, Action], TicketState] = {
    (W, Action.CALL): C,
    (W, Action.TRANSFER): W,
    (W, Action.CANCEL): TicketState.CANCELLED,
    (C, Action.RECALL): C,
    (C, Action.START): S,
    (C, Action.NO_SHOW): TicketState.NO_SHOW,
    (C, Action.REQUEUE): W,
    (C, Action.TRANSFER): W,
    (S, Action.FINISH): TicketState.DONE,
    (S, Action.PARK): P,
    (S, Action.TRANSFER): W,
    (P, Action.CALL): C,
}

# Tickets that still hold their code: a citizen is waiting for or at a counter.
ACTIVE_STATES = frozenset({W, C, S, P})
FINAL_STATES = frozenset(set(TicketState) - ACTIVE_STATES)


def transition(state: TicketState, action: Action) -> TicketState:
    """Return the state after `action`, or raise InvalidTransition."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise InvalidTransition(state, action) from None
