"""The `floodgate` command: deploy, watch and steer rollouts; run the local stack.

Exit codes: 0 succeeded · 1 other failure · 2 bad input (nothing changed) · 3 rolled back.
Heavy imports (Prefect, the Kubernetes client) happen inside the commands that need them, so
`floodgate status` answers in well under a second.
"""

from __future__ import annotations

import typer

from flows.cli import rollouts
from flows.cli.apps import apps_cli
from flows.cli.local import local_cli

cli = typer.Typer(
    name="floodgate",
    help="Progressive delivery as Prefect flows: blue-green, canary and rolling rollouts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
rollouts.register(cli)
cli.add_typer(local_cli, name="local")
cli.add_typer(apps_cli, name="apps")


@cli.command("alert-rules")
def alert_rules() -> None:
    """Print the runtime's Prometheus alerting rules (promtool-checked) as YAML."""
    from app.monitoring.alerting import alert_rules_yaml

    typer.echo(alert_rules_yaml(), nl=False)


def main() -> None:
    cli()
