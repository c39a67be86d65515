import pytest

from flows.errors import InvalidTransition
from flows.model import ALLOWED, CHANGED_TARGET, TERMINAL, Phase, Rollout
from flows.spec import RolloutSpec


def rollout() -> Rollout:
    return Rollout(spec=RolloutSpec(app="shop", version="v2"))


def test_every_phase_has_a_row_and_terminal_phases_have_no_exit():
    assert set(ALLOWED) == set(Phase)
    assert all(ALLOWED[p] == frozenset() for p in TERMINAL)
    assert all(ALLOWED[p] for p in Phase if p not in TERMINAL)


def test_every_active_phase_can_roll_back():
    for phase in CHANGED_TARGET - {Phase.ROLLING_BACK}:
        assert Phase.ROLLING_BACK in ALLOWED[phase], phase


def test_a_transition_records_its_reason_and_keeps_the_original():
    r = rollout()
    moved = r.transition(Phase.VALIDATING, "validation started")
    assert r.phase is Phase.PENDING
    assert moved.phase is Phase.VALIDATING
    assert moved.reason == "validation started"
    [t] = moved.transitions
    assert (t.from_phase, t.to_phase, t.reason) == (Phase.PENDING, Phase.VALIDATING,
                                                   "validation started")  # fmt: skip
    assert moved.phase_since >= r.phase_since


def test_a_forbidden_transition_raises_with_the_reason():
    with pytest.raises(InvalidTransition, match=r"Pending -> Succeeded is not allowed \(skip\)"):
        rollout().transition(Phase.SUCCEEDED, "skip")


def test_the_record_round_trips_through_json():
    r = rollout().transition(Phase.VALIDATING, "go").with_updates(weights={"v1": 100})
    again = Rollout.model_validate(r.model_dump(mode="json"))
    assert again == r
