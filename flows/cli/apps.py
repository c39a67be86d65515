"""`floodgate apps` and `floodgate apps register FILE`: what a target runs, and adding to it.

An app definition is YAML (or JSON) in the target's own format — `LocalApp` for the local stack,
`KubernetesApp` for a cluster (see the README's settings); a field the format does not know, or
a value out of range, is refused with exit 2 and the field's name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from flows.cli.errors import handled
from flows.cli.watch import console
from flows.errors import BadInput
from flows.runner import current
from flows.targets import resolve

apps_cli = typer.Typer(
    help="The apps a target runs; register new ones.", invoke_without_command=True
)

TargetOpt = Annotated[
    str, typer.Option("--target", "-t", help="'local' or a saved target block name.")
]


@apps_cli.callback()
@handled
def list_apps(
    ctx: typer.Context,
    target: TargetOpt = "local",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every app of the target with its stable version, entry point and last rollout."""
    if ctx.invoked_subcommand is not None:
        return
    tgt = resolve(target).target
    rows: list[dict[str, Any]] = []
    for app in tgt.apps():
        info = tgt.describe(app)
        rollout = current(tgt, app)
        rows.append({
            "app": app, "stable_version": info.stable_version, "entrypoint": info.entrypoint,
            "phase": rollout.phase.value if rollout else "Idle",
        })  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("app", "stable", "entry point", "last rollout", box=None, pad_edge=False)
    for row in rows:
        table.add_row(row["app"], row["stable_version"] or "-", row["entrypoint"], row["phase"])
    console.print(table)


def read_definition(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise BadInput(f"FILE {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise BadInput(f"FILE {path}: not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise BadInput(f"FILE {path}: expected a mapping of app settings")
    return data


@apps_cli.command()
@handled
def register(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The app definition (YAML).")],
    target: TargetOpt = "local",
) -> None:
    """Add (or update) an app from its definition; on the local stack its stable version starts."""
    data = read_definition(file)
    tgt = resolve(target).target
    if tgt.name == "local":
        from blocks.local import LocalApp, LocalStack, LocalTarget

        assert isinstance(tgt, LocalTarget)
        LocalStack(tgt.settings).register(LocalApp.model_validate(data))
    elif tgt.name == "kubernetes":
        from blocks.kubernetes.app import KubernetesApp
        from blocks.kubernetes.target import KubernetesTarget

        assert isinstance(tgt, KubernetesTarget)
        tgt.register_app(KubernetesApp.model_validate(data))
    else:
        raise BadInput(f"target {target!r} ({tgt.name}) takes no app definitions")
    console.print(f"registered {data.get('name')} on {target}")
