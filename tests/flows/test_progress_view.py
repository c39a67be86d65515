from flows.model import Phase, Rollout
from flows.progress_view import describe_weights, percent_done, steps_in_plan
from flows.spec import RolloutSpec, Strategy


def walk(strategy: Strategy) -> list[float]:
    r = Rollout(spec=RolloutSpec(app="shop", version="v2", strategy=strategy))
    path = [(Phase.VALIDATING, 0), (Phase.PREPARING, 0), (Phase.VERIFYING, 0),
            (Phase.SHIFTING, 0), (Phase.ANALYSING, 0), (Phase.SHIFTING, 1),
            (Phase.ANALYSING, 1), (Phase.PROMOTING, 1), (Phase.SUCCEEDED, 1)]  # fmt: skip
    seen = [percent_done(r, 2)]
    for phase, step in path:
        r = r.model_copy(update={"phase": phase, "step": step})
        seen.append(percent_done(r, 2))
    return seen


def test_progress_never_goes_back_and_ends_at_100():
    for strategy in Strategy:
        seen = walk(strategy)
        assert seen == sorted(seen), strategy
        assert seen[0] == 0
        assert seen[-1] == 100


def test_plan_lengths():
    spec = RolloutSpec(app="shop", version="v2", steps=[5, 100])
    assert steps_in_plan(Rollout(spec=spec), 3) == 2
    rolling = spec.model_copy(update={"strategy": Strategy.ROLLING, "batch_size": 2})
    assert steps_in_plan(Rollout(spec=rolling), 5) == 3


def test_weights_are_described_in_version_order():
    assert describe_weights({"v2": 5, "v1": 95}) == "v1 95% / v2 5%"
    assert describe_weights({}) == "-"
