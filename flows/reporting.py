"""What a rollout shows in Prefect while it runs: a progress artifact, events, a final report.

Events (`floodgate.rollout.<phase>`) let Prefect automations react to rollouts — page someone on
`floodgate.rollout.rolledback`, say — without polling. Reporting never fails a rollout: a Prefect
API hiccup is logged and the rollout goes on.
"""

from __future__ import annotations

import logging
from uuid import UUID

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.events import emit_event

from flows.model import Rollout
from flows.progress_view import describe_weights, percent_done

log = logging.getLogger("floodgate.reporting")


class PrefectReporter:
    """Keeps one progress artifact per flow run current and emits an event per transition."""

    def __init__(self, rollout: Rollout, replicas: int) -> None:
        self.replicas = replicas
        self.seen_transitions = len(rollout.transitions)
        self.artifact: UUID | None = None
        try:
            created = create_progress_artifact(
                progress=percent_done(rollout, replicas),
                key=f"rollout-{rollout.app}",
                description=f"{rollout.app} → {rollout.version} ({rollout.spec.strategy})",
            )
            self.artifact = created if isinstance(created, UUID) else None
        except Exception:
            log.warning("could not create the progress artifact", exc_info=True)

    def update(self, rollout: Rollout) -> None:
        try:
            if self.artifact is not None:
                update_progress_artifact(
                    self.artifact,
                    progress=percent_done(rollout, self.replicas),
                    description=f"{rollout.phase}: {rollout.reason}",
                )
            for transition in rollout.transitions[self.seen_transitions :]:
                emit_event(
                    event=f"floodgate.rollout.{transition.to_phase.value.lower()}",
                    resource={
                        "prefect.resource.id": f"floodgate.rollout.{rollout.app}",
                        "prefect.resource.name": rollout.app,
                        "floodgate.version": rollout.version,
                    },
                    payload={
                        "rollout_id": rollout.id,
                        "from": transition.from_phase.value,
                        "to": transition.to_phase.value,
                        "step": transition.step,
                        "reason": transition.reason,
                        "weights": rollout.weights,
                    },
                )
            self.seen_transitions = len(rollout.transitions)
        except Exception:
            log.warning("could not report progress to Prefect", exc_info=True)

    def finish(self, rollout: Rollout) -> None:
        self.update(rollout)
        try:
            create_markdown_artifact(
                markdown=report_markdown(rollout),
                key=f"rollout-{rollout.app}-report",
                description=f"{rollout.app} {rollout.version}: {rollout.phase}",
            )
        except Exception:
            log.warning("could not write the rollout report", exc_info=True)


def report_markdown(rollout: Rollout) -> str:
    """The audit trail as tables: transitions with reasons, then every analysis."""
    lines = [
        f"# {rollout.app}: {rollout.from_version or '(none)'} → {rollout.version}",
        "",
        f"**{rollout.phase}** — {rollout.reason}",
        "",
        f"Strategy `{rollout.spec.strategy}`, rollout `{rollout.id}`, "
        f"snapshot `{rollout.snapshot_id or '-'}`, serving {describe_weights(rollout.weights)}.",
        "",
        "| time (UTC) | from | to | step | reason |",
        "|---|---|---|---|---|",
    ]
    for t in rollout.transitions:
        reason = t.reason.replace("|", "\\|")
        lines.append(f"| {t.at:%H:%M:%S} | {t.from_phase} | {t.to_phase} | {t.step} | {reason} |")
    if rollout.analyses:
        lines += [
            "",
            "| time (UTC) | step | weight | verdict | requests | error rate | p95 | reason |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for a in rollout.analyses:
            requests, rate, p95s = (
                a.candidate.get(k) for k in ("requests", "error_rate", "p95_seconds")
            )
            req = "-" if requests is None else f"{requests:.0f}"
            er = "-" if rate is None else f"{rate * 100:.1f}%"
            p95 = "-" if p95s is None else f"{p95s * 1000:.0f} ms"
            reason = a.reason.replace("|", "\\|")
            lines.append(
                f"| {a.at:%H:%M:%S} | {a.step} | {a.weight}% | {a.verdict} | {req} | {er} | "
                f"{p95} | {reason} |"
            )
    return "\n".join(lines) + "\n"
