import pytest

from blocks.metrics import Measurement
from blocks.policy import AnalysisPolicy
from flows.analysis import Decision, decide, judge, worst
from flows.model import Counters, Verdict

POLICY = AnalysisPolicy()
BASE = Measurement(requests=1000, error_rate=0.002, p95_seconds=0.010)


def m(requests=500, error_rate=0.0, p95=0.012, error=None):
    return Measurement(requests=requests, error_rate=error_rate, p95_seconds=p95, error=error)


def test_worst_wins():
    assert worst(Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE) is Verdict.FAIL
    assert worst(Verdict.PASS, Verdict.INCONCLUSIVE) is Verdict.INCONCLUSIVE
    assert worst(Verdict.PASS) is Verdict.PASS
    assert worst() is Verdict.INCONCLUSIVE


@pytest.mark.parametrize(
    ("candidate", "verdict", "reason_part"),
    [
        (m(), Verdict.PASS, "error rate 0.0%"),
        (m(error_rate=0.30), Verdict.FAIL, "error rate 30.0% > 5.0%"),
        (m(error_rate=0.02), Verdict.FAIL, "baseline 0.2% + 1.0%"),
        (m(error_rate=0.011), Verdict.PASS, ""),
        (m(p95=1.5), Verdict.FAIL, "p95 1500 ms > 1000 ms"),
        (m(p95=0.810), Verdict.FAIL, "1.2 × baseline 10 ms"),
        # 14 ms against 10 ms is 1.4x but only 4 ms slower: noise, not a regression
        (m(p95=0.014), Verdict.PASS, ""),
        (m(requests=5), Verdict.INCONCLUSIVE, "too little traffic: 5 requests (need 20)"),
        (m(requests=None), Verdict.INCONCLUSIVE, "too little traffic: 0 requests"),
        (m(p95=None), Verdict.INCONCLUSIVE, "no error-rate or latency data"),
    ],
)
def test_judge(candidate, verdict, reason_part):
    judgement = judge(candidate, BASE, POLICY)
    assert judgement.verdict is verdict
    assert reason_part in judgement.reason


def test_both_failures_are_reported():
    judgement = judge(m(error_rate=0.3, p95=2.0), BASE, POLICY)
    assert judgement.verdict is Verdict.FAIL
    assert "error rate" in judgement.reason
    assert "p95" in judgement.reason


def test_quiet_baseline_means_absolute_thresholds_only():
    quiet = Measurement(requests=3, error_rate=0.0, p95_seconds=0.001)
    judgement = judge(m(error_rate=0.03, p95=0.5), quiet, POLICY)
    assert judgement.verdict is Verdict.PASS
    assert "absolute thresholds only" in judgement.reason


def test_pass_proceeds_and_resets_consecutive_errors():
    outcome = decide(m(), BASE, POLICY, Counters(consecutive_errors=2))
    assert outcome.decision is Decision.PROCEED
    assert outcome.counters.consecutive_errors == 0


def test_first_failure_rolls_back_with_default_limit():
    outcome = decide(m(error_rate=0.3), BASE, POLICY, Counters())
    assert outcome.decision is Decision.ROLL_BACK
    assert outcome.counters.failures == 1


def test_failure_limit_tolerates_then_rolls_back():
    policy = AnalysisPolicy(failure_limit=1)
    first = decide(m(error_rate=0.3), BASE, policy, Counters())
    assert first.decision is Decision.RETRY
    assert "1/1 failures tolerated" in first.reason
    second = decide(m(error_rate=0.3), BASE, policy, first.counters)
    assert second.decision is Decision.ROLL_BACK


def test_inconclusive_is_never_a_pass():
    counters = Counters()
    decisions = []
    for _ in range(POLICY.inconclusive_limit + 1):
        outcome = decide(m(requests=1), BASE, POLICY, counters)
        counters = outcome.counters
        decisions.append(outcome.decision)
    assert decisions[:-1] == [Decision.RETRY] * POLICY.inconclusive_limit
    assert decisions[-1] is Decision.ROLL_BACK
    assert "never a pass" in outcome.reason


@pytest.mark.parametrize("which", ["candidate", "baseline"])
def test_query_errors_are_counted_and_never_promote(which):
    broken = Measurement(error="connection refused")
    candidate, baseline = (broken, BASE) if which == "candidate" else (m(), broken)
    counters = Counters()
    outcomes = []
    for _ in range(POLICY.consecutive_error_limit + 1):
        outcome = decide(candidate, baseline, POLICY, counters)
        counters = outcome.counters
        outcomes.append(outcome)
    assert all(o.verdict is None for o in outcomes)
    assert [o.decision for o in outcomes[:-1]] == [Decision.RETRY] * POLICY.consecutive_error_limit
    assert outcomes[-1].decision is Decision.ROLL_BACK
    assert "connection refused" in outcomes[-1].reason
