"""The ticket state machine: every (state, action) pair is either allowed with one result or refused."""

import itertools

import pytest

from server.queue import Action, InvalidTransition, TicketState, transition

S, A = TicketState, Action

ALLOWED = {
    (S.WAITING, A.CALL): S.CALLED,
    (S.WAITING, A.TRANSFER): S.WAITING,
    (S.WAITING, A.CANCEL): S.CANCELLED,
    (S.CALLED, A.RECALL): S.CALLED,
    (S.CALLED, A.START): S.SERVING,
    (S.CALLED, A.NO_SHOW): S.NO_SHOW,
    (S.CALLED, A.REQUEUE): S.WAITING,
    (S.CALLED, A.TRANSFER): S.WAITING,
    (S.SERVING, A.FINISH): S.DONE,
    (S.SERVING, A.PARK): S.PARKED,
    (S.SERVING, A.TRANSFER): S.WAITING,
    (S.PARKED, A.CALL): S.CALLED,
}
FORBIDDEN = [pair for pair in itertools.product(S, A) if pair not in ALLOWED]


@pytest.mark.parametrize(("state", "action"), list(ALLOWED), ids=lambda v: v.value)
def test_allowed_transition_gives_its_state(state, action):
    assert transition(state, action) is ALLOWED[(state, action)]


@pytest.mark.parametrize(("state", "action"), FORBIDDEN, ids=lambda v: v.value)
def test_forbidden_transition_raises(state, action):
    with pytest.raises(InvalidTransition) as info:
        transition(state, action)
    assert info.value.state is state and info.value.action is action
    assert state.value in str(info.value)


def test_the_table_covers_every_pair():
    assert len(ALLOWED) + len(FORBIDDEN) == len(S) * len(A) == 63


@pytest.mark.parametrize("final", [S.DONE, S.NO_SHOW, S.CANCELLED])
def test_final_states_allow_nothing(final):
    for action in A:
        with pytest.raises(InvalidTransition):
            transition(final, action)
