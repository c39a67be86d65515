"""The state machine against an in-memory target: every strategy, every failure path."""

import copy
from datetime import timedelta

import pytest

from blocks.metrics import Measurement
from flows.errors import HealthCheckFailed
from flows.model import Phase, Rollout
from flows.reconcile import Deps, advance, due_at
from flows.runner import drive, start_or_resume
from flows.spec import HealthCheck, RolloutSpec, Strategy
from tests.support.memory_target import HEALTHY, MemoryApp, MemoryTarget, ScriptedMetrics

FAST = {
    "step_interval_seconds": 0,
    "keep_previous_seconds": 0,
    "health": HealthCheck(retries=0, retry_delay_seconds=0),
}


def make(strategy=Strategy.CANARY, **overrides):
    target = MemoryTarget(
        [MemoryApp("shop", "v1", replicas=3, env={"DB": "x"}), MemoryApp("payments", "2.4")]
    )
    metrics = ScriptedMetrics({"v1": HEALTHY, "v2": HEALTHY})
    spec = RolloutSpec(app="shop", version="v2", strategy=strategy, **{**FAST, **overrides})
    return target, metrics, spec


def run(target, metrics, spec, **kwargs):
    deps = Deps(target=target, metrics=metrics)
    seen: list[Rollout] = []
    final = drive(
        start_or_resume(spec, target), deps, sleep=lambda s: None, on_change=seen.append, **kwargs
    )
    return final, seen


def weights_seen(seen):
    out = []
    for r in seen:
        active = r.phase in (Phase.ANALYSING, Phase.PROMOTING, Phase.SUCCEEDED)
        if active and r.weights and (not out or out[-1] != r.weights):
            out.append(r.weights)
    return out


def test_canary_promotes_through_every_step():
    target, metrics, spec = make()
    final, seen = run(target, metrics, spec)
    assert final.phase is Phase.SUCCEEDED
    assert weights_seen(seen)[:4] == [
        {"v1": 95, "v2": 5},
        {"v1": 90, "v2": 10},
        {"v1": 50, "v2": 50},
        {"v2": 100},
    ]
    assert len(final.analyses) == 4
    assert target.inventory()["shop"] == "v2"
    assert {i.version for i in target.instances("shop")} == {"v2"}
    assert target.get_weights("shop") == {"v2": 100}
    assert all(t.reason for t in final.transitions)


def test_blue_green_analyses_green_before_and_after_the_switch():
    target, metrics, spec = make(Strategy.BLUE_GREEN)
    final, seen = run(target, metrics, spec)
    assert final.phase is Phase.SUCCEEDED
    assert [a.weight for a in final.analyses] == [0, 100]
    assert target.preview["shop"] is None
    phases = [r.phase for r in seen]
    assert phases.index(Phase.SHIFTING) > phases.index(Phase.ANALYSING)


def test_rolling_replaces_in_batches_never_below_replicas():
    target, metrics, spec = make(Strategy.ROLLING, batch_size=1)
    counts = []
    original = target.ensure_instances

    def spy(app, version, count, env):
        result = original(app, version, count, env)
        counts.append(dict(target.instances_by_app[app]))
        return result

    target.ensure_instances = spy
    final, _ = run(target, metrics, spec)
    assert final.phase is Phase.SUCCEEDED
    assert counts[0] == {"v1": 3, "v2": 1}
    assert all(sum(c.values()) >= 3 for c in counts)
    assert target.instances_by_app["shop"] == {"v2": 3}


def test_rolling_analyses_every_batch_and_stops_at_the_first_bad_one():
    target, metrics, spec = make(Strategy.ROLLING, batch_size=1)
    metrics.by_version["v2"] = Measurement(requests=300, error_rate=0.3, p95_seconds=0.01)
    final, seen = run(target, metrics, spec)
    assert final.phase is Phase.ROLLED_BACK
    assert len(final.analyses) == 1
    assert max(r.step for r in seen) == 0
    assert target.instances_by_app["shop"] == {"v1": 3}
    assert target.get_weights("shop") == {"v1": 100}


def test_unhealthy_candidate_rolls_back_to_the_snapshot():
    target, metrics, spec = make()
    target.unhealthy.add("v2")
    final, _ = run(target, metrics, spec)
    assert final.phase is Phase.ROLLED_BACK
    assert "HealthCheckFailed" in final.reason
    assert target.instances_by_app["shop"] == {"v1": 3}
    assert target.get_weights("shop") == {"v1": 100}


def test_failed_analysis_rolls_back_at_the_step_it_fails():
    target, metrics, spec = make()
    metrics.by_version["v2"] = Measurement(requests=300, error_rate=0.3, p95_seconds=0.01)
    final, seen = run(target, metrics, spec)
    assert final.phase is Phase.ROLLED_BACK
    assert "error rate 30.0%" in final.reason
    assert weights_seen(seen) == [{"v1": 95, "v2": 5}]
    assert target.get_weights("shop") == {"v1": 100}
    assert "v2" not in target.instances_by_app["shop"]


def test_metrics_source_down_never_promotes():
    target, metrics, spec = make()
    metrics.by_version = {}
    final, _ = run(target, metrics, spec)
    assert final.phase is Phase.ROLLED_BACK
    assert "consecutive metric query errors" in final.reason
    assert all(a.verdict == "Error" for a in final.analyses)


def test_validation_failure_changes_nothing():
    target, metrics, spec = make(
        validation={"requires": ["payments>=3"], "required_config": ["API_KEY"]}
    )
    final, _ = run(target, metrics, spec)
    assert final.phase is Phase.FAILED
    assert "payments runs 2.4" in final.reason
    assert "API_KEY" in final.reason
    assert target.saved_snapshots == {}
    assert target.instances_by_app["shop"] == {"v1": 3}
    assert "ensure_instances" not in target.calls


def test_snapshot_is_taken_before_the_first_change():
    target, metrics, spec = make()
    run(target, metrics, spec)
    assert target.calls.index("snapshot") < target.calls.index("ensure_instances")


def test_abort_command_rolls_back():
    target, metrics, spec = make(step_interval_seconds=3600)
    deps = Deps(target=target, metrics=metrics)
    rollout = drive(start_or_resume(spec, target), deps, follow=False, sleep=lambda s: None)
    assert rollout.phase is Phase.ANALYSING
    target.post_command("shop", "abort")
    final = drive(rollout, deps, sleep=lambda s: None)
    assert final.phase is Phase.ROLLED_BACK
    assert final.reason.startswith("aborted by user")


def test_promote_skips_the_dwell_of_one_step():
    target, metrics, spec = make(step_interval_seconds=3600)
    deps = Deps(target=target, metrics=metrics)
    rollout = drive(start_or_resume(spec, target), deps, follow=False, sleep=lambda s: None)
    target.post_command("shop", "promote")
    rollout = advance(rollout, deps)
    assert rollout.phase is Phase.SHIFTING
    assert rollout.step == 1


def test_promote_full_goes_straight_to_100():
    target, metrics, spec = make(step_interval_seconds=3600)
    deps = Deps(target=target, metrics=metrics)
    rollout = drive(start_or_resume(spec, target), deps, follow=False, sleep=lambda s: None)
    target.post_command("shop", "promote-full")
    final = drive(rollout, deps, sleep=lambda s: None)
    assert final.phase is Phase.SUCCEEDED
    assert final.transitions[-2].reason == "promoted by user (full)"


def test_pause_before_promote_waits_for_a_person():
    target, metrics, spec = make(pause_before_promote=True)
    deps = Deps(target=target, metrics=metrics)
    rollout = drive(start_or_resume(spec, target), deps, follow=False, sleep=lambda s: None)
    assert rollout.phase is Phase.PAUSED
    assert rollout.weights == {"v1": 50, "v2": 50}
    assert advance(rollout, deps) is rollout
    target.post_command("shop", "promote")
    final = drive(rollout, deps, sleep=lambda s: None)
    assert final.phase is Phase.SUCCEEDED


def test_dwell_is_respected():
    target, metrics, spec = make(step_interval_seconds=60)
    clock = {"now": None}
    deps = Deps(target=target, metrics=metrics)
    rollout = drive(start_or_resume(spec, target), deps, follow=False, sleep=lambda s: None)
    assert rollout.phase is Phase.ANALYSING
    assert advance(rollout, deps) is rollout
    clock["now"] = rollout.phase_since + timedelta(seconds=61)
    deps.now = lambda: clock["now"]
    assert advance(rollout, deps).step == 1


def test_second_rollout_of_the_same_app_is_refused():
    from flows.errors import RolloutInProgress

    target, metrics, spec = make(step_interval_seconds=3600)
    deps = Deps(target=target, metrics=metrics)
    drive(start_or_resume(spec, target), deps, follow=False, sleep=lambda s: None)
    other = spec.model_copy(update={"version": "v3"})
    with pytest.raises(RolloutInProgress, match="unfinished canary rollout to v2"):
        start_or_resume(other, target)
    assert start_or_resume(spec, target).id == target.load_record("shop")["id"]


STATE = (
    "instances_by_app",
    "env_by_app",
    "weights",
    "preview",
    "records",
    "history_by_app",
    "saved_snapshots",
    "_apps",
)


def capture(target):
    return {name: copy.deepcopy(getattr(target, name)) for name in STATE}


def checkpoints(strategy, healthy):
    """Every (record, platform state) a crash could leave behind during one rollout.

    For each saved record two crash points exist: right after the save (the phase's side effect
    has not happened) and right before the next save (it has, but the record does not say so).
    """
    target, metrics, spec = make(strategy)
    if not healthy:
        target.unhealthy.add("v2")
    states = []
    original = target.save_record

    def recording_save(app, record):
        original(app, record)
        states.append((copy.deepcopy(record), capture(target)))

    target.save_record = recording_save
    drive(start_or_resume(spec, target), Deps(target=target, metrics=metrics), sleep=lambda s: None)
    points = []
    for i, (record, state) in enumerate(states):
        points.append((record, state))
        if i + 1 < len(states):
            points.append((record, states[i + 1][1]))
    return spec, points


@pytest.mark.parametrize("healthy", [True, False], ids=["healthy", "unhealthy"])
@pytest.mark.parametrize("strategy", list(Strategy))
def test_a_crash_at_any_point_resumes_to_a_consistent_end(strategy, healthy):
    _, points = checkpoints(strategy, healthy)
    assert len(points) > 6
    for record, state in points:
        target, metrics, _ = make(strategy)
        if not healthy:
            target.unhealthy.add("v2")
        for name, value in copy.deepcopy(state).items():
            setattr(target, name, value)
        target.records["shop"] = record
        final = drive(
            Rollout.model_validate(record),
            Deps(target=target, metrics=metrics),
            sleep=lambda s: None,
        )
        expected = Phase.SUCCEEDED if healthy else Phase.ROLLED_BACK
        if record["phase"] in ("Validating", "Pending") and not healthy:
            expected = Phase.ROLLED_BACK
        assert final.phase is expected, (record["phase"], final.reason)
        version = "v2" if healthy else "v1"
        assert target.get_weights("shop") == {version: 100}, record["phase"]
        assert set(target.instances_by_app["shop"]) == {version}, record["phase"]
        assert target.preview.get("shop") is None


def test_failing_rollback_stays_rolling_back_for_resume():
    from blocks.errors import TargetError

    target, metrics, spec = make()
    target.unhealthy.add("v2")
    errors = iter([TargetError("nginx down")] * 3)
    original = target.restore

    def broken(snapshot):
        exc = next(errors, None)
        if exc:
            raise exc
        original(snapshot)

    target.restore = broken
    deps = Deps(target=target, metrics=metrics)
    with pytest.raises(TargetError):
        drive(start_or_resume(spec, target), deps, sleep=lambda s: None)
    assert target.load_record("shop")["phase"] == "RollingBack"
    final = drive(Rollout.model_validate(target.load_record("shop")), deps, sleep=lambda s: None)
    assert final.phase is Phase.ROLLED_BACK
    assert target.get_weights("shop") == {"v1": 100}


def test_health_check_error_type_is_in_the_reason():
    target, metrics, spec = make()
    target.unhealthy.add("v2")
    final, _ = run(target, metrics, spec)
    assert HealthCheckFailed.__name__ in final.reason
    assert "3/3 instances unhealthy" in final.reason


def test_plain_steps_retry_the_health_check_as_the_spec_says():
    from flows.steps import health_check_with_retries

    target, _, spec = make(health=HealthCheck(retries=3, retry_delay_seconds=7))
    rollout = start_or_resume(spec, target)
    target.ensure_instances("shop", "v2", 2, {})
    target.unhealthy.add("v2")
    pauses = []

    def sleep(seconds):
        pauses.append(seconds)
        if len(pauses) == 2:
            target.unhealthy.discard("v2")  # healthy from the third attempt on

    assert health_check_with_retries(rollout, target, sleep) == "2 instances healthy"
    assert pauses == [7, 7]
    target.unhealthy.add("v2")
    pauses.clear()
    with pytest.raises(HealthCheckFailed):
        health_check_with_retries(rollout, target, lambda s: pauses.append(s))
    assert pauses == [7, 7, 7]


def test_each_canary_step_waits_its_own_dwell():
    target, metrics, spec = make(step_intervals_seconds=[10, 20, 30, 40])
    deps = Deps(target=target, metrics=metrics)
    rollout = drive(start_or_resume(spec, target), deps, follow=False, sleep=lambda s: None)
    dwells = []
    while not rollout.terminal:
        if rollout.phase is Phase.ANALYSING:
            started = rollout.phase_since
            deps.now = lambda started=started: started
            assert advance(rollout, deps) is rollout  # not due yet
            dwells.append((due_at(rollout) - started).total_seconds())
            deps.now = lambda started=started: started + timedelta(seconds=1000)
        rollout = advance(rollout, deps)
    assert dwells == [10, 20, 30, 40]
    assert rollout.phase is Phase.SUCCEEDED
