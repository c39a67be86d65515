"""Analysis verdicts as pure functions: measurements in, verdict and reason out.

Structure follows Argo Rollouts' analysis: every check yields Pass / Inconclusive / Fail, the
worst wins, and counted limits (failures, inconclusive results, consecutive query errors) decide
when to give up. A query error is a measurement, never an exception, and never a pass — so an
unreachable Prometheus can stall a rollout and finally roll it back, but cannot promote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from blocks.metrics import Measurement
from blocks.policy import AnalysisPolicy
from flows.model import Counters, Verdict

_SEVERITY = {Verdict.PASS: 0, Verdict.INCONCLUSIVE: 1, Verdict.ERROR: 1, Verdict.FAIL: 2}


def worst(*verdicts: Verdict) -> Verdict:
    """Fail beats Inconclusive beats Pass; no verdicts at all is Inconclusive."""
    if not verdicts:
        return Verdict.INCONCLUSIVE
    return max(verdicts, key=_SEVERITY.__getitem__)


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def judge(candidate: Measurement, baseline: Measurement, policy: AnalysisPolicy) -> Judgement:
    """Compare a candidate's window with the baseline's; `error` fields must be None here."""
    min_req = policy.min_requests
    if candidate.requests is None or candidate.requests < min_req:
        seen = 0 if candidate.requests is None else round(candidate.requests)
        return Judgement(
            Verdict.INCONCLUSIVE, f"too little traffic: {seen} requests (need {min_req})"
        )
    if candidate.error_rate is None or candidate.p95_seconds is None:
        return Judgement(Verdict.INCONCLUSIVE, "no error-rate or latency data for the candidate")

    verdicts: list[Verdict] = []
    reasons: list[str] = []
    er, p95 = candidate.error_rate, candidate.p95_seconds
    comparable = baseline.requests is not None and baseline.requests >= min_req

    if er > policy.max_error_rate:
        verdicts.append(Verdict.FAIL)
        reasons.append(f"error rate {_pct(er)} > {_pct(policy.max_error_rate)}")
    elif comparable and baseline.error_rate is not None:
        ceiling = baseline.error_rate + policy.max_error_rate_increase
        if er > ceiling:
            verdicts.append(Verdict.FAIL)
            reasons.append(
                f"error rate {_pct(er)} > baseline {_pct(baseline.error_rate)} "
                f"+ {_pct(policy.max_error_rate_increase)}"
            )
    if p95 > policy.max_p95_seconds:
        verdicts.append(Verdict.FAIL)
        reasons.append(f"p95 {_ms(p95)} > {_ms(policy.max_p95_seconds)}")
    elif comparable and baseline.p95_seconds is not None:
        b95 = baseline.p95_seconds
        if p95 > policy.max_p95_ratio * b95 and p95 - b95 > policy.p95_tolerance_seconds:
            verdicts.append(Verdict.FAIL)
            reasons.append(f"p95 {_ms(p95)} > {policy.max_p95_ratio:g} × baseline {_ms(b95)}")

    if verdicts:
        return Judgement(worst(*verdicts), "; ".join(reasons))
    summary = f"error rate {_pct(er)}, p95 {_ms(p95)} over {round(candidate.requests)} requests"
    if not comparable:
        summary += " (baseline has too little traffic: absolute thresholds only)"
    return Judgement(Verdict.PASS, summary)


class Decision(StrEnum):
    """What the rollout does after an analysis."""

    PROCEED = "proceed"  # the step passed
    RETRY = "retry"  # analyse again after another interval
    ROLL_BACK = "roll-back"  # a counted limit was exceeded


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict | None  # None when the measurement itself failed (query error)
    decision: Decision
    reason: str
    counters: Counters


def decide(
    candidate: Measurement,
    baseline: Measurement,
    policy: AnalysisPolicy,
    counters: Counters,
) -> Outcome:
    """Judge one analysis and apply the counted limits to it."""
    error = candidate.error or baseline.error
    if error is not None:
        errors = counters.consecutive_errors + 1
        new = counters.model_copy(update={"consecutive_errors": errors})
        limit = policy.consecutive_error_limit
        if errors > limit:
            return Outcome(
                None, Decision.ROLL_BACK, f"{errors} consecutive metric query errors: {error}", new
            )
        return Outcome(
            None, Decision.RETRY, f"metric query error ({errors}/{limit} tolerated): {error}", new
        )

    counters = counters.model_copy(update={"consecutive_errors": 0})
    judgement = judge(candidate, baseline, policy)
    if judgement.verdict is Verdict.PASS:
        return Outcome(Verdict.PASS, Decision.PROCEED, judgement.reason, counters)
    if judgement.verdict is Verdict.FAIL:
        failures = counters.failures + 1
        counters = counters.model_copy(update={"failures": failures})
        if failures > policy.failure_limit:
            return Outcome(Verdict.FAIL, Decision.ROLL_BACK, judgement.reason, counters)
        return Outcome(
            Verdict.FAIL,
            Decision.RETRY,
            f"{judgement.reason} ({failures}/{policy.failure_limit} failures tolerated)",
            counters,
        )
    inconclusive = counters.inconclusive + 1
    counters = counters.model_copy(update={"inconclusive": inconclusive})
    if inconclusive > policy.inconclusive_limit:
        return Outcome(
            Verdict.INCONCLUSIVE,
            Decision.ROLL_BACK,
            f"{judgement.reason}; inconclusive {inconclusive} times, never a pass",
            counters,
        )
    return Outcome(
        Verdict.INCONCLUSIVE,
        Decision.RETRY,
        f"{judgement.reason} ({inconclusive}/{policy.inconclusive_limit} inconclusive tolerated)",
        counters,
    )
