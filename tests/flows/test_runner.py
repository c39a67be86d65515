import pytest

from flows.errors import BadInput, RolloutInProgress
from flows.model import Phase
from flows.reconcile import Deps
from flows.runner import current, drive, preflight, resume, start_or_resume, waiting
from flows.spec import RolloutSpec, Strategy
from tests.support.memory_target import HEALTHY, MemoryApp, MemoryTarget, ScriptedMetrics


def target() -> MemoryTarget:
    return MemoryTarget([MemoryApp("shop", "v1")])


def spec(**changes) -> RolloutSpec:
    return RolloutSpec(**{"app": "shop", "version": "v2", "step_interval_seconds": 3600,
                          **changes})  # fmt: skip


def test_preflight_changes_nothing():
    t = target()
    assert preflight(spec(), t) is None
    assert t.records == {}


def test_already_running_version_is_bad_input():
    with pytest.raises(BadInput, match="already runs v1"):
        preflight(spec(version="v1"), target())


def test_same_spec_resumes_other_is_refused():
    t = target()
    first = drive(start_or_resume(spec(), t), Deps(t, ScriptedMetrics({"v1": HEALTHY})),
                  follow=False, sleep=lambda s: None)  # fmt: skip
    assert first.phase is Phase.ANALYSING
    assert waiting(first)
    assert start_or_resume(spec(), t).id == first.id
    with pytest.raises(RolloutInProgress, match="unfinished canary rollout to v2"):
        preflight(spec(strategy=Strategy.BLUE_GREEN), t)


def test_resume_needs_an_unfinished_rollout():
    t = target()
    with pytest.raises(BadInput, match="nothing to resume: shop has no rollout"):
        resume(t, "shop")
    assert current(t, "shop") is None
