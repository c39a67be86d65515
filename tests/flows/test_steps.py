from blocks.errors import InvalidSnapshot
from flows import steps
from flows.model import Rollout
from flows.spec import RolloutSpec, Strategy
from tests.support.memory_target import MemoryApp, MemoryTarget


def setup(**spec_changes):
    target = MemoryTarget([MemoryApp("shop", "v1", replicas=2, env={"DB": "x", "MODE": "a"})])
    spec = RolloutSpec(app="shop", version="v2", env={"MODE": "b"}, **spec_changes)
    return target, Rollout(spec=spec, from_version="v1")


def test_the_new_version_runs_with_the_app_config_overlaid_by_env():
    target, rollout = setup()
    assert steps.candidate_env(rollout, target) == {"DB": "x", "MODE": "b"}


def test_validate_reports_every_problem_at_once():
    target, rollout = setup(
        strategy=Strategy.ROLLING, replicas=2, batch_size=3,
        validation={"required_config": ["API_KEY"], "requires": ["ledger>=1"]},
    )  # fmt: skip
    problems = steps.validate(rollout, target)
    assert any("batch_size=3" in p for p in problems)
    assert any("API_KEY" in p for p in problems)
    assert any("ledger is not running" in p for p in problems)


def test_roll_back_without_a_usable_snapshot_still_ends_unsplit():
    target, rollout = setup()
    target.ensure_instances("shop", "v2", 2, {})
    target.set_weights("shop", {"v1": 50, "v2": 50})
    target.fail_next["restore"] = InvalidSnapshot("checksum mismatch")
    snapshot = target.snapshot("shop")
    detail = steps.roll_back(rollout.with_updates(snapshot_id=snapshot.id), target)
    assert "unusable (checksum mismatch)" in detail
    assert target.get_weights("shop") == {"v1": 100}
    assert "v2" not in target.instances_by_app["shop"]


def test_prepare_opens_no_preview_before_the_health_check():
    target, rollout = setup(strategy=Strategy.BLUE_GREEN)
    steps.prepare(rollout, target, 2)
    assert target.preview.get("shop") is None
    steps.open_preview(rollout, target)
    assert target.preview["shop"] == "v2"
