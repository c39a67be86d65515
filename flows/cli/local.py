"""`floodgate local up | down | status`: the local stack a rollout runs on.

`up` starts Prometheus, nginx, the load generator and fraud-api v1 (2 replicas), then — unless
`PREFECT_API_URL` names a server — a Prefect server with its UI, a process serving the
deploy / rollback / progress deployments (so rollouts can be started and watched from the UI),
and the control API (REST + signed CI webhooks) with a token and secret kept in the state dir.
`down` stops all of it and checks that no process is left.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from flows.cli.errors import FAILURE, fail, handled
from flows.cli.watch import console
from flows.targets import local_home

local_cli = typer.Typer(help="Run the local stack: nginx, Prometheus, Prefect, fraud-api.")

PREFECT_FILE = "prefect.json"
CONTROL_FILE = "control.json"
PREFECT_PORT = 4200
CONTROL_PORT = 8088


def prefect_file(home: Path) -> Path:
    return home / PREFECT_FILE


def _start_prefect(stack: Any, home: Path, port: int) -> str:
    """A Prefect server with its UI, plus the process serving Floodgate's deployments."""
    prefect_home = home / "prefect"
    prefect_home.mkdir(parents=True, exist_ok=True)
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    }
    console.print(f"starting the Prefect server on :{port} (about 15–20 s the first time)")
    stack.start_process(
        "prefect-server",
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, ready_url=f"{api_url}/health", timeout=180,
    )  # fmt: skip
    flow_env = {
        **env,
        "PREFECT_API_URL": api_url,
        "FLOODGATE_HOME": str(home),
        "PREFECT_LOGGING_EXTRA_LOGGERS": "floodgate",
    }
    _register_blocks(api_url, home)
    stack.start_process(
        "flow-server", [sys.executable, "-m", "flows.serve"], env=flow_env, timeout=60
    )
    prefect_file(home).write_text(json.dumps({"api_url": api_url}))
    return api_url


def control_credentials(home: Path) -> dict[str, str]:
    """The control API's bearer token and webhook secret, made once per state dir (mode 0600)."""
    path = home / CONTROL_FILE
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    data = {"api_token": secrets.token_urlsafe(24), "webhook_secret": secrets.token_urlsafe(24)}
    path.touch(mode=0o600)
    path.write_text(json.dumps(data, indent=2))
    return data


def _start_control_api(stack: Any, home: Path, api_url: str, port: int) -> str:
    """The control API (REST + CI webhooks) on loopback, steering this stack through Prefect."""
    creds = control_credentials(home)
    env = {
        "PREFECT_API_URL": api_url,
        "FLOODGATE_HOME": str(home),
        "CONTROL_TARGET": "local",
        "CONTROL_API_TOKENS": json.dumps([creds["api_token"]]),
        "CONTROL_WEBHOOK_SECRETS": json.dumps([creds["webhook_secret"]]),
        "APP_NAME": "floodgate-control",
        "LOG_LEVEL": "WARNING",
    }
    url = f"http://127.0.0.1:{port}"
    stack.start_process(
        "control-api",
        [sys.executable, "-m", "uvicorn", "app.control.main:create_control_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        env=env, ready_url=f"{url}/health", timeout=60,
    )  # fmt: skip
    return url


def _register_blocks(api_url: str, home: Path) -> None:
    """Make Floodgate's block types (and the `local` target) visible in the Prefect UI."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from blocks.local.block import LocalTargetBlock
    from blocks.local.settings import LocalSettings
    from blocks.policy_block import AnalysisPolicyBlock
    from blocks.prometheus import PrometheusBlock

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        for block_type in (AnalysisPolicyBlock, PrometheusBlock):
            block_type.register_type_and_schema()
        LocalTargetBlock.from_settings(LocalSettings.load(home)).save("local", overwrite=True)


@local_cli.command()
@handled
def up(
    prefect: Annotated[bool, typer.Option(help="Start a Prefect server with its UI.")] = True,
    prefect_port: Annotated[int, typer.Option(help="Port of that server.")] = PREFECT_PORT,
    control_port: Annotated[
        int, typer.Option(help="Port of the control API (started with Prefect).")
    ] = CONTROL_PORT,
    loadgen: Annotated[bool, typer.Option(help="Steady traffic to every app.")] = True,
    rate: Annotated[float | None, typer.Option(help="Load generator req/s per app.")] = None,
    scrape_interval: Annotated[float | None, typer.Option(help="Prometheus, seconds.")] = None,
    router: Annotated[str | None, typer.Option(help="'lua' (default) or 'reload'.")] = None,
) -> None:
    """Start the local stack (idempotent: running parts are left as they are)."""
    from blocks.local import LocalSettings, LocalStack
    from examples.fraud_api.local import fraud_api_app

    home = local_home()
    overrides: dict[str, Any] = {"loadgen_enabled": loadgen}
    if rate is not None:
        overrides["loadgen_rate"] = rate
    if scrape_interval is not None:
        overrides["scrape_interval_seconds"] = scrape_interval
    if router is not None:
        overrides["router"] = router
    settings = LocalSettings.model_validate(
        {**LocalSettings.load(home).model_dump(), **overrides, "state_dir": home}
    )
    stack = LocalStack(settings)
    stack.up([fraud_api_app()])
    urls = {"Prometheus": f"http://127.0.0.1:{settings.prometheus_port}"}
    if prefect and not os.environ.get("PREFECT_API_URL"):
        api = _start_prefect(stack, home, prefect_port)
        urls["Prefect UI"] = api.removesuffix("/api")
        control = _start_control_api(stack, home, api, control_port)
        urls["Control API"] = f"{control}  (token and webhook secret: {home / CONTROL_FILE})"
    _print_status(stack.status(), urls)


@local_cli.command()
@handled
def down() -> None:
    """Stop every process of the local stack; fail if one survives."""
    from blocks.local import LocalSettings, LocalStack

    home = local_home()
    stack = LocalStack(LocalSettings.load(home))
    swept = stack.down()
    prefect_file(home).unlink(missing_ok=True)
    left = stack.leftover_processes()
    if left:
        raise fail(FAILURE, f"processes still running: {left}")
    note = f" (the final sweep killed {len(swept)} stray processes)" if swept else ""
    console.print(f"local stack stopped{note}")


@local_cli.command("status")
@handled
def status_cmd(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """What runs in the local stack, with pids and ports."""
    from blocks.local import LocalSettings, LocalStack

    stack = LocalStack(LocalSettings.load(local_home()))
    statuses = stack.status()
    if as_json:
        typer.echo(json.dumps({k: v.as_dict() for k, v in statuses.items()}, indent=2))
        return
    _print_status(statuses, {})
    if not all(s.up for s in statuses.values()):
        raise typer.Exit(FAILURE)


def _print_status(statuses: dict[str, Any], urls: dict[str, str]) -> None:
    table = Table("component", "up", "pid", "port", "detail")
    for name, s in statuses.items():
        mark = "[green]yes[/]" if s.up else "[red]no[/]"
        table.add_row(name, mark, str(s.pid or "-"), str(s.port or "-"), s.detail or "")
    console.print(table)
    for label, url in urls.items():
        console.print(f"{label:<11} {url}")
