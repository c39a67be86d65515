"""Start, resume and drive rollouts: the loop around the reconcile tick, free of Prefect.

`floodgate deploy`, `floodgate resume`, the Prefect `deploy` flow and the scheduled `progress`
flow all come through here, so they share one definition of "a second rollout is refused" and of
"an interrupted rollout is resumed".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from blocks.target import Target
from flows.errors import BadInput, RolloutInProgress
from flows.model import Phase, Rollout, utcnow
from flows.reconcile import Deps, advance, due_at, save
from flows.spec import RolloutSpec

log = logging.getLogger("floodgate.runner")

ROLLBACK_ATTEMPTS = 3
POLL_SECONDS = 1.0


def current(target: Target, app: str) -> Rollout | None:
    """The app's latest rollout record, if any."""
    raw = target.load_record(app)
    return Rollout.model_validate(raw) if raw is not None else None


def preflight(spec: RolloutSpec, target: Target) -> Rollout | None:
    """Refuse `spec` if it cannot start; return the unfinished rollout it would resume.

    Another unfinished rollout of the app (a different version or strategy) is refused: it must
    be resumed or aborted first, so two rollouts never fight over one app's traffic.
    """
    info = target.describe(spec.app)
    existing = current(target, spec.app)
    if existing is not None and not existing.terminal:
        if existing.version == spec.version and existing.spec.strategy == spec.strategy:
            return existing
        raise RolloutInProgress(
            f"{spec.app} has an unfinished {existing.spec.strategy} rollout to "
            f"{existing.version} (phase {existing.phase}, id {existing.id}); "
            f"run `floodgate resume {spec.app}` or `floodgate abort {spec.app}` first"
        )
    if info.stable_version == spec.version:
        raise BadInput(f"{spec.app} already runs {spec.version}; nothing to roll out")
    return None


def start_or_resume(spec: RolloutSpec, target: Target) -> Rollout:
    """A new saved rollout for `spec`, or the unfinished one with the same version."""
    existing = preflight(spec, target)
    if existing is not None:
        log.info("resuming rollout %s of %s in phase %s", existing.id, spec.app, existing.phase)
        return existing
    info = target.describe(spec.app)
    rollout = Rollout(spec=spec, from_version=info.stable_version, reason="requested")
    target.save_record(spec.app, rollout.model_dump(mode="json"))
    return rollout


def resume(target: Target, app: str) -> Rollout:
    """The unfinished rollout of `app`; BadInput if there is none."""
    target.describe(app)
    existing = current(target, app)
    if existing is None or existing.terminal:
        state = "no rollout" if existing is None else f"its last rollout is {existing.phase}"
        raise BadInput(f"nothing to resume: {app} has {state}")
    return existing


def waiting(rollout: Rollout) -> bool:
    """True when the rollout waits for time to pass or for a person (dwell, pause)."""
    return rollout.phase is Phase.PAUSED or (
        rollout.phase is Phase.ANALYSING and (due := due_at(rollout)) is not None and utcnow() < due
    )


def drive(
    rollout: Rollout,
    deps: Deps,
    *,
    follow: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    on_change: Callable[[Rollout], None] | None = None,
    gate: Callable[[Rollout], None] | None = None,
) -> Rollout:
    """Tick until terminal (or, with `follow=False`, until the rollout only waits for time).

    While it waits it wakes at least every second to pick up `abort`/`promote` commands, so a
    person never waits a whole canary interval for an abort to take effect. At a manual gate
    (`Paused`) it calls `gate`, which waits for a person's decision and posts it as a command.
    """
    failures = 0
    while not rollout.terminal:
        if not follow and waiting(rollout):
            return rollout
        try:
            new = advance(rollout, deps)
        except Exception:
            # A tick raises only when it cannot record its outcome or a rollback fails: retry
            # with backoff, then give up and leave the record for `floodgate resume`.
            failures += 1
            if failures >= ROLLBACK_ATTEMPTS:
                raise
            log.exception("tick in %s failed (attempt %d); retrying", rollout.phase, failures)
            sleep(2.0 ** (failures - 1))
            continue
        failures = 0
        if new is rollout and gate is not None and rollout.phase is Phase.PAUSED:
            gate(rollout)
        elif new is rollout:
            sleep(_pause(rollout, deps.now()))
        elif on_change is not None:
            on_change(new)
        rollout = new
    return rollout


def _pause(rollout: Rollout, now: datetime) -> float:
    due = due_at(rollout)
    if due is None:
        return POLL_SECONDS
    return max(0.05, min(POLL_SECONDS, (due - now).total_seconds()))


def record_flow_run(rollout: Rollout, deps: Deps, flow_run_id: str | None) -> Rollout:
    """Remember which Prefect flow runs drove this rollout (the audit trail links to them)."""
    if not flow_run_id or flow_run_id in rollout.flow_run_ids:
        return rollout
    return save(rollout.with_updates(flow_run_ids=[*rollout.flow_run_ids, flow_run_id]), deps)
