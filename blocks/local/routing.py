"""Turns the state directory into what nginx and Prometheus serve, and reads nginx back.

Every change follows one path: store what is asked (`routing.json`, instance records), bump the
generation, render the whole config, and make nginx serve it — by a graceful reload, or for a
weight change with the Lua router by a run-time switch (the rendered config is still written so a
restart serves the same weights). file_sd files are rewritten with each reload. Callers hold the
state lock.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from blocks.errors import TargetError
from blocks.local.apps import AppRegistry
from blocks.local.files import atomic_write_text
from blocks.local.instances import InstanceStore
from blocks.local.layout import StateLayout
from blocks.local.managed import ComponentRecord
from blocks.local.nginx import NginxServer
from blocks.local.nginx_config import NginxPaths, render_config
from blocks.local.prometheus import file_sd_groups, remove_file_sd, write_file_sd
from blocks.local.routers import TrafficRouter
from blocks.local.routing_table import AppRoutes, RoutingState, RoutingTable
from blocks.local.settings import LocalSettings

log = logging.getLogger("floodgate.local")


class Routing:
    def __init__(self, settings: LocalSettings, layout: StateLayout, registry: AppRegistry,
                 store: InstanceStore, nginx: NginxServer, router: TrafficRouter) -> None:
        self._settings = settings
        self._layout = layout
        self._registry = registry
        self._store = store
        self.nginx = nginx
        self.router = router

    # what was asked --------------------------------------------------------------------------
    def asked(self, app: str) -> RoutingState:
        path = self._layout.routing_file(app)
        return RoutingState.model_validate_json(path.read_text()) if path.exists() \
            else RoutingState()

    def save_asked(self, app: str, state: RoutingState) -> None:
        atomic_write_text(self._layout.routing_file(app), state.model_dump_json(indent=2))

    # what serves -----------------------------------------------------------------------------
    def served(self, app: str) -> dict[str, Any]:
        """The app's entry in nginx's admin JSON ({} if nginx routes nothing for it yet)."""
        apps: dict[str, Any] = self.nginx.state().get("apps", {})
        entry: dict[str, Any] = apps.get(app, {})
        return entry

    def in_sync(self, app: str) -> bool:
        """True if nginx serves exactly the instances and routing the state asks for."""
        route = self.table(0).route(app)
        served = self.served(app)
        if route is None:
            return not served
        expected = route.static_state()
        return bool(served) and all(served.get(k) == v for k, v in expected.items()) and \
            served.get("weights") == route.served_weights()

    # rendering -------------------------------------------------------------------------------
    def table(self, generation: int) -> RoutingTable:
        routes = []
        for app in self._registry.all():
            asked = self.asked(app.name)
            upstreams: dict[str, list[int]] = {}
            for record in self._store.records(app.name):
                if not record.stopping:
                    upstreams.setdefault(record.version, []).append(record.port)
            routes.append(AppRoutes(
                app=app.name, entry_port=app.entry_port, preview_port=app.preview_port,
                upstreams={v: tuple(sorted(p)) for v, p in upstreams.items()},
                weights=dict(asked.weights), preview=asked.preview, stable=asked.stable,
            ))
        return RoutingTable(generation, self._settings.admin_port, tuple(routes))

    def render(self, generation: int) -> str:
        paths = NginxPaths(prefix=self._layout.nginx_dir, error_log=self._layout.nginx_error_log)
        return render_config(self.table(generation), self.router, paths,
                             workers=self._settings.nginx_workers)

    def next_generation(self) -> int:
        path = self._layout.generation_file
        current = int(path.read_text()) if path.exists() else 0
        atomic_write_text(path, str(current + 1))
        return current + 1

    # applying --------------------------------------------------------------------------------
    def start_nginx(self) -> ComponentRecord:
        running = self.nginx.running()
        if running is not None:
            return running
        generation = self.next_generation()
        record = self.nginx.start(self.render(generation), generation)
        self.write_file_sd()
        return record

    def apply(self) -> None:
        """Reload nginx with the current state (raises `TargetError` if it is not running)."""
        generation = self.next_generation()
        started = time.monotonic()
        self.nginx.reload(self.render(generation), generation)
        self.write_file_sd()
        log.info("nginx serves generation %d (reload, %.0f ms)", generation,
                 (time.monotonic() - started) * 1000)

    def switch(self, app: str, state: RoutingState) -> None:
        """Serve `state` for `app`; weights alone switch at run time if the router can."""
        previous = self.asked(app)
        self.save_asked(app, state)
        try:
            generation = self.next_generation()
            route = self.table(generation).route(app)
            weights_only = previous.model_copy(update={"weights": state.weights}) == state
            if route is not None and weights_only and self.router.switch_weights(
                self.nginx, route, generation
            ):
                self.nginx.write(self.render(generation))  # so a restart serves the same
                how = "run-time switch"
            else:
                self.nginx.reload(self.render(generation), generation)
                how = "reload"
        except TargetError:
            self.save_asked(app, previous)
            raise
        self.write_file_sd()
        log.info("%s: weights %s, preview %s, stable %s (generation %d, %s)", app,
                 state.weights, state.preview, state.stable, generation, how)

    def write_file_sd(self) -> None:
        names = set(self._registry.names())
        for app in names:
            envs = {s.version: s.env for s in self._store.specs(app)}
            groups = file_sd_groups(app, self._store.records(app), self.asked(app), envs)
            write_file_sd(self._layout, app, groups)
        if self._layout.file_sd_dir.is_dir():
            for path in self._layout.file_sd_dir.glob("*.json"):
                if path.stem not in names:
                    remove_file_sd(self._layout, path.stem)
