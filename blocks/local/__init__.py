"""The local target: each app version as N processes on loopback, behind a real nginx, scraped by
a real Prometheus — the embedded default platform a rollout runs on.

Public API (everything the flows and the CLI need)
--------------------------------------------------
`LocalSettings(state_dir=…, admin_port=8089, prometheus_port=9090, scrape_interval_seconds=5,
router="lua"|"reload", loadgen_enabled=True, loadgen_rate=20, snapshot_retention_hours=72, …)`
    One stack's configuration. `LocalSettings.load(state_dir)` returns what `up()` saved in
    `<state>/settings.json` (defaults if none). Default state dir: `$FLOODGATE_HOME`, else
    `./.floodgate`.

`LocalStack(settings)` — `floodgate local up|down|status`:
    `up(apps=[...]) -> dict[str, ComponentStatus]`  idempotent; registers `apps`, starts
        Prometheus, nginx, each app's stable version (its `initial_version` at first up,
        weight 100), and the load generator. `up([fraud_api_app()])` = the default stack.
    `down() -> list[int]`  stops everything; a final /proc sweep kills anything still carrying
        the state dir's marker (returns those pids; normally empty).
    `status() -> dict[str, ComponentStatus]`  keys `nginx`, `prometheus`, `loadgen`, extra
        process names, and `app:<name>`; each has `.up`, `.pid`, `.port`, `.detail`, `.as_dict()`.
    `start_process(name, argv, env=, cwd=, ready_url=|port=, timeout=) -> ComponentRecord`
        any extra long-running process (Prefect server, flow server) with a pid record and
        `<state>/logs/<name>.log`; idempotent; stopped by `stop_process(name)` and by `down()`.
    `register(app)`  add an app to a running stack (starts its stable version).
    `leftover_processes()`  marked processes still alive (for tests: empty after `down()`).
    `.target`  the `LocalTarget` of this stack.

`LocalTarget(settings)` — implements `blocks.target.Target` (name "local"); extra:
    `register_app(LocalApp)`, `clear_routing(app, weights=, stable=)`, `nginx.state()` (the
    admin JSON). Routing operations need the stack up (`TargetError` otherwise).

`LocalTargetBlock(state_dir=…, [ports…])` — Prefect Block (slug `floodgate-local-target`):
    `get_target() -> LocalTarget`, `get_metrics_source() -> PrometheusMetricsSource`,
    `settings()`, `LocalTargetBlock.from_settings(settings)`. Empty fields follow the stack.

`LocalApp(name, command=[... "{port}" ...], replicas=2, entry_port, preview_port,
health_path="/health", env={}, required_config=[], migration_check=None, cwd=None,
initial_version="v1", load=LoadProfile(...))` — an app definition; `examples.fraud_api.local.
fraud_api_app(entry_port=8080, preview_port=8081)` is the example's.

Ports (127.0.0.1): per app an entry port (weighted split) and a preview port (the preview
version, else stable); nginx admin port (`GET /floodgate/state` JSON: `generation`,
`config_generation`, `router`, and per app `weights`, `preview`, `stable`, `upstreams`,
`entry_port`, `preview_port`; Lua router: `POST /floodgate/weights`); Prometheus; one free port
per instance.

Semantics worth knowing
-----------------------
* `get_weights` reads nginx's admin JSON — what is served, never a cache. `set_weights` replaces
  the whole map, needs instances for every version named, and returns once nginx serves it.
* `ensure_instances` replaces dead instances and instances started with another env; new ones
  join nginx and file_sd at once (weight decides traffic); removed ones leave nginx before they
  are stopped. It refuses to scale to 0 (and `retire` refuses) a version that still has weight
  or is the preview/stable version.
* Instance env = the app's `env` + the given env + APP_NAME, APP_VERSION, PORT. Prometheus
  labels: `app`, `version`, `track` (`stable`; else env FLOODGATE_TRACK; else `green` for the
  preview version, `canary` otherwise), `floodgate_instance`.
* Failures: nginx refusing a config or failing a reload (port taken) → `TargetError` with
  nginx's message, the old config keeps serving; a dead instance → `ready=False`; Prometheus
  down → `status()["prometheus"].up is False` (metric queries fail → analysis errors).

The state directory layout is documented in `blocks.local.layout`; the routers (reload vs Lua,
switch times) in `blocks.local.routers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from blocks.local.apps import LoadProfile, LocalApp, TrafficRequest
    from blocks.local.block import LocalTargetBlock
    from blocks.local.settings import LocalSettings
    from blocks.local.stack import ComponentStatus, LocalStack
    from blocks.local.target import LocalTarget

# Imported lazily: the load generator (`python -m blocks.local.loadgen`) must not pay for Prefect.
_EXPORTS = {
    "LoadProfile": "blocks.local.apps",
    "LocalApp": "blocks.local.apps",
    "TrafficRequest": "blocks.local.apps",
    "LocalTargetBlock": "blocks.local.block",
    "LocalSettings": "blocks.local.settings",
    "ComponentStatus": "blocks.local.stack",
    "LocalStack": "blocks.local.stack",
    "LocalTarget": "blocks.local.target",
}

__all__ = [
    "ComponentStatus",
    "LoadProfile",
    "LocalApp",
    "LocalSettings",
    "LocalStack",
    "LocalTarget",
    "LocalTargetBlock",
    "TrafficRequest",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'blocks.local' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_EXPORTS[name]), name)
