"""`floodgate deploy | status | history | promote | abort | resume | rollback | snapshots`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from blocks.errors import AppLocked
from blocks.target import Target
from flows.cli import prefect_api
from flows.cli.errors import BAD_INPUT, FAILURE, OK, ROLLED_BACK, err, exit_code_for, fail, handled
from flows.cli.options import build_spec
from flows.cli.watch import RolloutWatcher, console, transition_line
from flows.errors import BadInput
from flows.model import Phase, Rollout
from flows.progress_view import describe_weights
from flows.runner import current, preflight, resume
from flows.spec import RolloutSpec, Strategy
from flows.targets import resolve

TargetOpt = Annotated[
    str, typer.Option("--target", "-t", help="'local' or a saved target block name.")
]
AppArg = Annotated[str, typer.Argument(metavar="APP", help="The app to act on.")]

EXIT_BY_PHASE = {Phase.SUCCEEDED: OK, Phase.ROLLED_BACK: ROLLED_BACK, Phase.FAILED: FAILURE}


def register(cli: typer.Typer) -> None:
    for command in (deploy, status, history, promote, abort, resume_cmd, rollback, snapshots):
        name = "resume" if command is resume_cmd else command.__name__
        cli.command(name)(command)


def _run_flow(target_name: str, app: str, replicas: int, call: Any) -> Rollout | None:
    """Run a Prefect flow in this process while showing the record's progress."""
    if prefect_api.configure() is None:
        err.print(
            "[yellow]note:[/] no Prefect server found (run `floodgate local up` or set "
            "PREFECT_API_URL); using Prefect's temporary server, which takes ~30 s to start"
        )
    resolved = resolve(target_name)
    with RolloutWatcher(resolved.target, app, replicas) as watcher:
        state = call()
    if state.is_failed() or state.is_crashed():
        outcome = state.result(raise_on_failure=False)
        if isinstance(outcome, BaseException) and not isinstance(outcome, AssertionError):
            code, message = exit_code_for(outcome)
            if code == BAD_INPUT or watcher.last is None:
                raise fail(code, message)
    return current(resolved.target, app)


def _finish(rollout: Rollout | None, as_json: bool) -> None:
    if rollout is None:
        raise fail(FAILURE, "the flow ended without a rollout record")
    if as_json:
        typer.echo(json.dumps(rollout.model_dump(mode="json"), indent=2))
    colour = {Phase.SUCCEEDED: "green", Phase.ROLLED_BACK: "yellow"}.get(rollout.phase, "red")
    if rollout.terminal:
        console.print(f"[bold {colour}]{rollout.phase}[/]: {rollout.reason}")
        raise typer.Exit(EXIT_BY_PHASE[rollout.phase])
    console.print(f"[cyan]{rollout.phase}[/]: {rollout.reason}")
    raise typer.Exit(OK)


@handled
def deploy(
    app: AppArg,
    version: Annotated[str, typer.Argument(metavar="VERSION")],
    strategy: Annotated[Strategy, typer.Option("--strategy", "-s")] = Strategy.CANARY,
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE for the new version.")
    ] = None,
    steps: Annotated[str | None, typer.Option(help="Canary weights, e.g. 5,10,50,100.")] = None,
    step_interval: Annotated[
        str | None,
        typer.Option(help="Seconds at each canary step before analysis, or one per step."),
    ] = None,
    target: TargetOpt = "local",
    replicas: Annotated[int | None, typer.Option(help="Instances of the new version.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Rolling: instances per batch.")] = None,
    min_healthy: Annotated[int | None, typer.Option(help="Rolling: healthy floor.")] = None,
    keep_previous: Annotated[
        float | None, typer.Option(help="Blue-green: seconds blue stays after the switch.")
    ] = None,
    pause_before_promote: Annotated[
        bool, typer.Option(help="Wait for `floodgate promote` before the last step.")
    ] = False,
    pause_timeout: Annotated[
        float | None, typer.Option(help="Seconds to wait at the gate before aborting (1 day).")
    ] = None,
    requires: Annotated[
        list[str] | None, typer.Option(help="Dependency constraint, e.g. 'payments>=2.3'.")
    ] = None,
    required_config: Annotated[
        list[str] | None, typer.Option(help="Config key that must be set and non-empty.")
    ] = None,
    migration_check: Annotated[
        str | None, typer.Option(help="Command that must exit 0, e.g. 'alembic check'.")
    ] = None,
    health_retries: Annotated[int | None, typer.Option(help="Default 5.")] = None,
    health_delay: Annotated[float | None, typer.Option(help="Seconds, default 10.")] = None,
    health_path: Annotated[str | None, typer.Option(help="Default /health.")] = None,
    analysis_window: Annotated[float | None, typer.Option(help="Seconds, default 60.")] = None,
    min_requests: Annotated[int | None, typer.Option(help="Default 20.")] = None,
    p95_tolerance: Annotated[
        float | None,
        typer.Option(help="Seconds the canary's p95 may exceed the baseline's, default 0.025."),
    ] = None,
    detach: Annotated[
        bool, typer.Option(help="Return at the first wait; the `progress` schedule goes on.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the final record.")] = False,
) -> None:
    """Roll APP out to VERSION. Exit 0 succeeded, 3 rolled back, 2 bad input, 1 failure."""
    spec = build_spec(
        app=app, version=version, strategy=strategy, env=env or [], steps=steps,
        step_interval=step_interval, replicas=replicas, batch_size=batch_size,
        min_healthy=min_healthy, keep_previous=keep_previous,
        pause_before_promote=pause_before_promote, pause_timeout=pause_timeout,
        requires=requires or [],
        required_config=required_config or [], migration_check=migration_check,
        health_retries=health_retries, health_delay=health_delay, health_path=health_path,
        analysis_window=analysis_window, min_requests=min_requests, p95_tolerance=p95_tolerance,
    )  # fmt: skip
    resolved = resolve(target)
    info = resolved.target.describe(spec.app)
    existing = preflight(spec, resolved.target)
    if existing is not None:
        console.print(f"resuming unfinished rollout {existing.id} ({existing.phase})")
    _finish(_deploy(spec, target, spec.replicas or info.replicas, follow=not detach), as_json)


def _deploy(spec: RolloutSpec, target: str, replicas: int, follow: bool) -> Rollout | None:
    def call() -> Any:
        from flows.deploy import deploy as deploy_flow

        return deploy_flow(spec=spec, target=target, follow=follow, return_state=True)

    return _run_flow(target, spec.app, replicas, call)


@handled
def resume_cmd(app: AppArg, target: TargetOpt = "local") -> None:
    """Continue APP's interrupted rollout from the record the target keeps."""
    resolved = resolve(target)
    rollout = resume(resolved.target, app)
    replicas = rollout.spec.replicas or resolved.target.describe(app).replicas
    console.print(f"resuming rollout {rollout.id} of {app} to {rollout.version} ({rollout.phase})")
    _finish(_deploy(rollout.spec, target, replicas, follow=True), as_json=False)


def status_dict(target: Target, app: str) -> dict[str, Any]:
    info = target.describe(app)
    rollout = current(target, app)
    data: dict[str, Any] = {
        "app": app,
        "phase": rollout.phase.value if rollout else "Idle",
        "stable_version": info.stable_version,
        "weights": target.get_weights(app),
        "entrypoint": info.entrypoint,
        "preview": info.preview,
        "instances": [
            {"name": i.name, "version": i.version, "address": i.address, "ready": i.ready}
            for i in target.instances(app)
        ],
    }
    if rollout is not None:
        data["rollout"] = {
            "id": rollout.id,
            "version": rollout.version,
            "from_version": rollout.from_version,
            "strategy": rollout.spec.strategy.value,
            "step": rollout.step,
            "reason": rollout.reason,
            "updated_at": rollout.updated_at.isoformat(),
        }
    return data


@handled
def status(
    app: AppArg,
    target: TargetOpt = "local",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Where APP is: phase, stable version, traffic weights, entry point, instances."""
    data = status_dict(resolve(target).target, app)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    console.print(
        f"[bold]{app}[/]  phase [cyan]{data['phase']}[/]  stable {data['stable_version']}"
    )
    console.print(f"serving   {describe_weights(data['weights'])}  at {data['entrypoint']}")
    if "rollout" in data:
        r = data["rollout"]
        console.print(f"rollout   {r['id']} → {r['version']} ({r['strategy']}): {r['reason']}")
    for i in data["instances"]:
        ready = {True: "ready", False: "not ready", None: "?"}[i["ready"]]
        console.print(f"  {i['version']:<10} {i['name']:<28} {i['address']:<22} {ready}")


@handled
def history(
    app: AppArg,
    target: TargetOpt = "local",
    rollout_id: Annotated[str | None, typer.Option("--id", help="Show one rollout.")] = None,
    limit: int = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """APP's rollouts, newest first; --id shows one rollout's transitions and analyses."""
    tgt = resolve(target).target
    tgt.describe(app)
    rollouts = [Rollout.model_validate(r) for r in tgt.history(app, limit=limit)]
    if rollout_id is not None:
        matches = [r for r in rollouts if r.id == rollout_id]
        if not matches:
            raise BadInput(f"no rollout {rollout_id} in {app}'s last {limit}")
        rollouts = matches
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rollouts], indent=2))
        return
    if rollout_id is not None:
        from flows.reporting import report_markdown

        console.print(report_markdown(rollouts[0]))
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "version", "from", "strategy", "phase", "started (UTC)", "took"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason", overflow="fold", min_width=30)
    for r in rollouts:
        took = (r.updated_at - r.created_at).total_seconds()
        table.add_row(
            r.id, r.version, r.from_version or "-", r.spec.strategy.value, r.phase.value,
            f"{r.created_at:%m-%d %H:%M:%S}", f"{took:.0f}s", r.reason[:160],
        )  # fmt: skip
    console.print(table)


def _command(app: str, target: str, command: str, allowed: set[Phase]) -> None:
    tgt = resolve(target).target
    tgt.describe(app)
    rollout = current(tgt, app)
    if rollout is None or rollout.phase not in allowed:
        phase = "no rollout" if rollout is None else f"phase {rollout.phase}"
        raise BadInput(f"cannot {command} {app}: {phase}")
    try:
        with tgt.lock(app, f"floodgate {command}"):
            nobody_drives = True
    except AppLocked:
        nobody_drives = False
    if not nobody_drives and rollout.phase is Phase.PAUSED and _resume_gate(rollout, command):
        console.print(f"{command}: resumed the flow run waiting at the gate")
        _wait_for_change(tgt, app, rollout, timeout=30)
        return
    tgt.post_command(app, command)
    if nobody_drives:
        console.print(f"{command} recorded; driving the rollout from here")
        replicas = rollout.spec.replicas or tgt.describe(app).replicas
        _finish(_deploy(rollout.spec, target, replicas, follow=command == "abort"), False)
    console.print(f"{command} sent to the process driving {app}; waiting for it to act")
    _wait_for_change(tgt, app, rollout, timeout=30)


def _resume_gate(rollout: Rollout, command: str) -> bool:
    """A rollout paused at the gate waits in a paused Prefect flow run; resume it with the
    decision (which the flow posts as the command — posting it here too would act twice)."""
    if prefect_api.configure() is None or not rollout.flow_run_ids:
        return False
    from flows.gate import resume_paused_run

    try:
        return resume_paused_run(rollout.flow_run_ids[-1], command)
    except Exception as exc:  # Prefect unreachable: fall back to the command file
        err.print(f"[yellow]note:[/] could not resume the paused flow run ({exc})")
        return False


def _wait_for_change(target: Target, app: str, before: Rollout, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    seen = len(before.transitions)
    while time.monotonic() < deadline:
        now = current(target, app)
        if now is not None and len(now.transitions) > seen:
            for index in range(seen, len(now.transitions)):
                console.print(transition_line(now, index))
            seen = len(now.transitions)
            if now.terminal or now.phase is not Phase.ROLLING_BACK:
                return
        time.sleep(0.2)
    raise fail(FAILURE, f"the process driving {app} did not act within {timeout:.0f}s")


@handled
def promote(
    app: AppArg,
    target: TargetOpt = "local",
    full: Annotated[bool, typer.Option(help="Skip all remaining steps.")] = False,
) -> None:
    """Pass APP's current step (or, with --full, promote it now)."""
    allowed = {Phase.ANALYSING, Phase.PAUSED}
    _command(app, target, "promote-full" if full else "promote", allowed)


@handled
def abort(app: AppArg, target: TargetOpt = "local") -> None:
    """Stop APP's rollout and roll it back to the snapshot it took."""
    active: set[Phase] = {p for p in Phase if not p.terminal and p is not Phase.ROLLING_BACK}
    _command(app, target, "abort", active)


@handled
def rollback(
    app: AppArg,
    target: TargetOpt = "local",
    to: Annotated[str | None, typer.Option("--to", help="Snapshot id (default: newest).")] = None,
) -> None:
    """Restore APP to a snapshot: its rollout in flight is aborted, else the newest or --to."""
    tgt = resolve(target).target
    tgt.describe(app)
    if to is not None:
        tgt.get_snapshot(app, to)  # validate before anything changes

    def call() -> Any:
        from flows.rollback import rollback as rollback_flow

        return rollback_flow(app=app, target=target, snapshot=to, return_state=True)

    _finish(_run_flow(target, app, tgt.describe(app).replicas, call), as_json=False)


@handled
def snapshots(
    app: AppArg,
    target: TargetOpt = "local",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """APP's snapshots, newest first (kept 72 h)."""
    tgt = resolve(target).target
    tgt.describe(app)
    found = tgt.snapshots(app)
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in found], indent=2))
        return
    now = datetime.now(UTC)
    table = Table("id", "taken (UTC)", "age", "stable", "instances", "weights")
    for s in found:
        age = now - s.taken_at
        instances = ", ".join(f"{v}×{n}" for v, n in s.instances.items())
        table.add_row(
            s.id, f"{s.taken_at:%Y-%m-%d %H:%M:%S}", f"{age.total_seconds() / 3600:.1f} h",
            s.stable_version or "-", instances, describe_weights(s.weights),
        )  # fmt: skip
    console.print(table)
