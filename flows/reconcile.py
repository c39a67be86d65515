"""One idempotent tick of the rollout state machine: `advance(rollout, deps) -> Rollout`.

A tick performs the side effect that belongs to the saved phase, then saves the transition to the
next phase before anything else happens. A process that dies anywhere is therefore safe to
replace: the next tick finds the phase whose side effect may or may not have happened and does it
again (every step is idempotent). The `deploy` flow loops ticks until the rollout is terminal; the
scheduled `progress` flow runs single ticks for rollouts nobody is driving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from blocks.metrics import MetricsSource
from blocks.target import Target
from flows import failpoints, steps
from flows.analysis import Decision
from flows.model import ALLOWED, Phase, Rollout, utcnow
from flows.plans import blue_green_weights, canary_weights, rolling_batches, rolling_weights
from flows.spec import Strategy

log = logging.getLogger("floodgate.reconcile")


@dataclass
class Steps:
    """The six steps; plain functions by default, Prefect tasks when run inside a flow."""

    validate: Callable[..., list[str]] = steps.validate
    take_snapshot: Callable[..., str] = steps.take_snapshot
    prepare: Callable[..., list[str]] = steps.prepare
    open_preview: Callable[..., None] = steps.open_preview
    health_check: Callable[..., str] = steps.health_check_with_retries
    compare_metrics: Callable[..., Any] = steps.compare_metrics
    shift_traffic: Callable[..., dict[str, int]] = steps.shift_traffic
    scale_previous: Callable[..., None] = steps.scale_previous
    complete: Callable[..., None] = steps.complete
    roll_back: Callable[..., str] = steps.roll_back


@dataclass
class Deps:
    """What a tick needs from the outside world."""

    target: Target
    metrics: MetricsSource
    steps: Steps = field(default_factory=Steps)
    now: Callable[[], datetime] = utcnow


def replicas_of(rollout: Rollout, target: Target) -> int:
    return rollout.spec.replicas or target.describe(rollout.app).replicas


def save(rollout: Rollout, deps: Deps) -> Rollout:
    deps.target.save_record(rollout.app, rollout.model_dump(mode="json"))
    failpoints.hit(f"enter:{rollout.phase}")
    return rollout


def move(rollout: Rollout, deps: Deps, to: Phase, reason: str, step: int | None = None) -> Rollout:
    """Transition and save before anything else happens."""
    log.info("%s %s: %s -> %s: %s", rollout.app, rollout.version, rollout.phase, to, reason)
    return save(rollout.transition(to, reason, step=step), deps)


def dwell_of(rollout: Rollout) -> float:
    """Seconds to wait in ANALYSING before measuring (the canary step interval, blue's keep)."""
    spec = rollout.spec
    if spec.strategy is Strategy.BLUE_GREEN and rollout.step >= 1:
        return spec.keep_previous_seconds
    if spec.strategy is Strategy.CANARY:
        return spec.dwell(rollout.step)
    return spec.step_interval_seconds


def due_at(rollout: Rollout) -> datetime | None:
    """When the next tick has work to do; None means now (or never, when terminal/paused)."""
    if rollout.phase is Phase.ANALYSING:
        return rollout.phase_since + timedelta(seconds=dwell_of(rollout))
    return None


def weights_for(rollout: Rollout, deps: Deps) -> dict[str, int]:
    """The traffic plan of the current step."""
    spec, stable = rollout.spec, rollout.from_version
    if spec.strategy is Strategy.CANARY:
        return canary_weights(spec.steps, stable, spec.version)[rollout.step]
    if spec.strategy is Strategy.BLUE_GREEN:
        return blue_green_weights(stable, spec.version, switched=rollout.step >= 1)
    batches = rolling_batches(replicas_of(rollout, deps.target), spec.batch_size)
    return rolling_weights(batches[rollout.step], stable, spec.version)


def advance(rollout: Rollout, deps: Deps) -> Rollout:
    """Run one step of the state machine and return the saved record."""
    if rollout.terminal:
        return rollout
    commanded = _apply_commands(rollout, deps)
    if commanded is not rollout:
        return commanded  # a person's command was this tick's step
    handler = _HANDLERS[rollout.phase]
    try:
        return handler(rollout, deps)
    except Exception as exc:  # a failed step: roll back (or refuse, if nothing changed yet)
        return _on_step_error(rollout, deps, exc)


def _on_step_error(rollout: Rollout, deps: Deps, exc: Exception) -> Rollout:
    what = f"{rollout.phase.value.lower()} failed: {type(exc).__name__}: {exc}"
    if rollout.phase in (Phase.PENDING, Phase.VALIDATING):
        return move(rollout, deps, Phase.FAILED, what)
    if rollout.phase is Phase.ROLLING_BACK:
        raise exc  # stay in RollingBack; the next tick (or `floodgate resume`) tries again
    return move(rollout, deps, Phase.ROLLING_BACK, what)


def _apply_commands(rollout: Rollout, deps: Deps) -> Rollout:
    for command in deps.target.take_commands(rollout.app):
        if rollout.terminal or rollout.phase is Phase.ROLLING_BACK:
            break
        if command == "abort" and rollout.phase in (Phase.PENDING, Phase.VALIDATING):
            rollout = move(rollout, deps, Phase.FAILED, "aborted by user before any change")
        elif command == "abort":
            rollout = move(rollout, deps, Phase.ROLLING_BACK, "aborted by user")
        elif command == "promote-full" and Phase.PROMOTING in _allowed(rollout):
            rollout = move(rollout, deps, Phase.PROMOTING, "promoted by user (full)")
        elif command == "promote" and rollout.phase in (Phase.ANALYSING, Phase.PAUSED):
            rollout = _step_passed(rollout, deps, "promoted by user")
        else:
            log.warning("ignored command %r in phase %s", command, rollout.phase)
    return rollout


def _allowed(rollout: Rollout) -> frozenset[Phase]:
    return ALLOWED[rollout.phase]


# Phase handlers --------------------------------------------------------------------------------


def _pending(r: Rollout, d: Deps) -> Rollout:
    return move(r, d, Phase.VALIDATING, "validation started")


def _validating(r: Rollout, d: Deps) -> Rollout:
    problems = d.steps.validate(r, d.target)
    if problems:
        return move(r, d, Phase.FAILED, "validation failed: " + "; ".join(problems))
    snapshot_id = d.steps.take_snapshot(r, d.target)
    failpoints.hit("done:Validating")
    r = r.with_updates(snapshot_id=snapshot_id)
    return move(r, d, Phase.PREPARING, f"validated; snapshot {snapshot_id} taken")


def _preparing(r: Rollout, d: Deps) -> Rollout:
    replicas = replicas_of(r, d.target)
    if r.spec.strategy is Strategy.ROLLING:
        count = rolling_batches(replicas, r.spec.batch_size)[r.step].new
    else:
        count = replicas
    names = d.steps.prepare(r, d.target, count)
    failpoints.hit("done:Preparing")
    return move(r, d, Phase.VERIFYING, f"{len(names)} instances of {r.version} started")


def _verifying(r: Rollout, d: Deps) -> Rollout:
    summary = d.steps.health_check(r, d.target)
    failpoints.hit("done:Verifying")
    if r.spec.strategy is Strategy.BLUE_GREEN:
        d.steps.open_preview(r, d.target)
        return move(r, d, Phase.ANALYSING, f"{summary}; analysing green through the preview")
    return move(r, d, Phase.SHIFTING, summary)


def _shifting(r: Rollout, d: Deps) -> Rollout:
    weights = weights_for(r, d)
    served = d.steps.shift_traffic(r, d.target, weights)
    failpoints.hit("done:Shifting")
    r = r.with_updates(weights=served)
    if r.spec.strategy is Strategy.ROLLING:
        batches = rolling_batches(replicas_of(r, d.target), r.spec.batch_size)
        if batches[r.step].old > 0:  # the last old instances go when the new version is stable
            d.steps.scale_previous(r, d.target, batches[r.step].old)
        return move(
            r, d, Phase.ANALYSING, f"batch {r.step + 1}/{len(batches)} serving {_fmt(served)}"
        )
    return move(r, d, Phase.ANALYSING, f"serving {_fmt(served)}")


def _analysing(r: Rollout, d: Deps) -> Rollout:
    due = due_at(r)
    if due is not None and d.now() < due:
        return r
    weight = r.weights.get(r.version, 0)
    outcome, record = d.steps.compare_metrics(r, d.metrics, weight)
    failpoints.hit("done:Analysing")
    r = r.with_updates(analyses=[*r.analyses, record], counters=outcome.counters)
    if outcome.decision is Decision.ROLL_BACK:
        return move(r, d, Phase.ROLLING_BACK, f"analysis failed: {outcome.reason}")
    if outcome.decision is Decision.RETRY:
        return save(r.restart_clock(f"analysis again later: {outcome.reason}"), d)
    return _step_passed(r, d, f"analysis passed: {outcome.reason}")


def _step_passed(r: Rollout, d: Deps, reason: str) -> Rollout:
    spec = r.spec
    if spec.strategy is Strategy.BLUE_GREEN:
        if r.step == 0:
            return move(r, d, Phase.SHIFTING, f"{reason}; switching to green", step=1)
        return move(r, d, Phase.PROMOTING, f"{reason}; retiring blue")
    if spec.strategy is Strategy.ROLLING:
        batches = len(rolling_batches(replicas_of(r, d.target), spec.batch_size))
        if r.step + 1 < batches:
            return move(r, d, Phase.PREPARING, f"{reason}; next batch", step=r.step + 1)
        return move(r, d, Phase.PROMOTING, f"{reason}; all {batches} batches serving")
    last = len(spec.steps) - 1
    if r.step >= last:
        return move(r, d, Phase.PROMOTING, reason)
    if r.phase is not Phase.PAUSED and spec.pause_before_promote and r.step + 1 == last:
        return move(r, d, Phase.PAUSED, f"{reason}; waiting for `floodgate promote`")
    return move(r, d, Phase.SHIFTING, reason, step=r.step + 1)


def _paused(r: Rollout, d: Deps) -> Rollout:
    return r


def _promoting(r: Rollout, d: Deps) -> Rollout:
    d.steps.complete(r, d.target)
    failpoints.hit("done:Promoting")
    r = r.with_updates(weights={r.version: 100})
    return move(r, d, Phase.SUCCEEDED, f"{r.version} is stable and serves 100%")


def _rolling_back(r: Rollout, d: Deps) -> Rollout:
    detail = d.steps.roll_back(r, d.target)
    failpoints.hit("done:RollingBack")
    served = d.target.get_weights(r.app)
    r = r.with_updates(weights=served)
    cause = _rollback_cause(r)
    return move(r, d, Phase.ROLLED_BACK, f"{cause} ({detail}; serving {_fmt(served)})")


def _rollback_cause(r: Rollout) -> str:
    for t in reversed(r.transitions):
        if t.to_phase is Phase.ROLLING_BACK:
            return t.reason
    return "rolled back"


def _fmt(weights: Mapping[str, int]) -> str:
    return ", ".join(f"{v} {p}%" for v, p in sorted(weights.items())) or "nothing"


_HANDLERS: dict[Phase, Callable[[Rollout, Deps], Rollout]] = {
    Phase.PENDING: _pending,
    Phase.VALIDATING: _validating,
    Phase.PREPARING: _preparing,
    Phase.VERIFYING: _verifying,
    Phase.SHIFTING: _shifting,
    Phase.ANALYSING: _analysing,
    Phase.PAUSED: _paused,
    Phase.PROMOTING: _promoting,
    Phase.ROLLING_BACK: _rolling_back,
}
