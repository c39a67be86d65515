"""Instance processes of app versions: ensure a count, retire a version, report readiness.

`ensure` reconciles like a ReplicaSet: records whose process died are dropped (and replaced),
an intent record without a pid adopts its process if the marker scan finds it (the orchestrator
died between spawn and bookkeeping) or is dropped, instances started with another env are
replaced, extras are stopped. Order matters for zero failed requests: new instances join nginx
and file_sd as soon as they are spawned (their version's weight decides whether they get
traffic); instances to stop are first taken out of nginx (reload), then terminated.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import httpx

from blocks.errors import TargetError
from blocks.local.apps import AppRegistry, LocalApp
from blocks.local.http import loopback_client
from blocks.local.instances import InstanceRecord, InstanceStore, VersionSpec, config_digest
from blocks.local.layout import StateLayout
from blocks.local.locks import StateLock
from blocks.local.ports import free_loopback_port
from blocks.local.processes import (
    is_alive,
    kill_sessions,
    marker_env,
    owned_processes,
    spawn,
    start_ticks,
    terminate,
)
from blocks.local.routing import Routing
from blocks.local.settings import LocalSettings
from blocks.rollout_terms import ENV_KEY, VERSION
from blocks.target import Instance

MAX_INSTANCES = 100
log = logging.getLogger("floodgate.local")


class Workload:
    def __init__(self, settings: LocalSettings, layout: StateLayout, registry: AppRegistry,
                 store: InstanceStore, routing: Routing, lock: StateLock) -> None:
        self._settings = settings
        self._layout = layout
        self._registry = registry
        self._store = store
        self._routing = routing
        self._lock = lock

    # ensure ----------------------------------------------------------------------------------
    def ensure(self, app_name: str, version: str, count: int,
               env: Mapping[str, str]) -> list[InstanceRecord]:
        app = self._registry.get(app_name)
        check_version(version)
        if not isinstance(count, int) or not 0 <= count <= MAX_INSTANCES:
            raise TargetError(f"count must be an integer in 0..{MAX_INSTANCES}, got {count!r}")
        bad = [k for k in env if not re.fullmatch(ENV_KEY, k)]
        if bad:
            raise TargetError(f"env keys {bad} are not valid variable names")
        config_env = {**app.env, **env}
        digest = config_digest(config_env)
        with self._lock.hold():
            if count == 0:
                self._refuse_if_routed(app_name, version, "scale to 0")
            if self._routing.nginx.running() is None:
                raise TargetError("nginx is not running; start the local stack first "
                                  "(floodgate local up)")
            keep: list[InstanceRecord] = []
            replace: list[InstanceRecord] = []
            for record in self._store.records(app_name, version):
                current = self._adopt(record)
                if current is None:
                    continue
                fits = not current.stopping and current.config_digest == digest
                (keep if fits else replace).append(current)
            replace += keep[count:]
            keep = keep[:count]
            if count:
                self._store.save_spec(app_name, VersionSpec(version=version, env=config_env,
                                                             replicas=count))
            spawned = [self._spawn(app, version, config_env, digest)
                       for _ in range(count - len(keep))]
            for record in replace:
                self._store.save(record.model_copy(update={"stopping": True}))
            if spawned or replace or not self._routing.in_sync(app_name):
                self._routing.apply()
            self.stop_instances(replace)
            if not count:
                self._store.delete_spec(app_name, version)
            return keep + spawned

    def _adopt(self, record: InstanceRecord) -> InstanceRecord | None:
        """The record with a live process, or None (record dropped) if there is none."""
        if record.handle is None:
            found = [p for p in owned_processes(self._layout.root) if p.instance == record.marker]
            ticks = start_ticks(found[0].pid) if found else None
            if ticks is None:
                self._store.delete(record)
                return None
            record = record.model_copy(update={"pid": found[0].pid, "start_ticks": ticks})
            self._store.save(record)
            return record
        if not is_alive(record.handle):
            kill_sessions([record.handle.pid])  # children it may have left behind
            self._store.delete(record)
            return None
        return record

    def _spawn(self, app: LocalApp, version: str, config_env: dict[str, str],
               digest: str) -> InstanceRecord:
        port = free_loopback_port(exclude=self._store.used_ports())
        record = InstanceRecord(app=app.name, version=version, port=port, config_digest=digest)
        self._store.save(record)  # intent first, so a crash after spawn leaves a trail
        identity = {"APP_NAME": app.name, "APP_VERSION": version, "PORT": str(port)}
        env = marker_env(self._layout.root, instance=record.marker,
                         extra={**config_env, **identity})
        handle = spawn(app.argv(version, port), env=env, cwd=None if app.cwd is None
                       else self._layout.root.joinpath(app.cwd),
                       log_path=self._layout.instance_log(app.name, version, port))
        record = record.model_copy(update={"pid": handle.pid, "start_ticks": handle.start_ticks})
        self._store.save(record)
        log.info("started %s on %s (pid %d)", record.name, record.address, handle.pid)
        return record

    def stop_instances(self, records: list[InstanceRecord]) -> None:
        """Stop these instances in parallel (each gets SIGTERM, then SIGKILL after the grace)."""
        if len(records) == 1:
            self.stop_instance(records[0])
        elif records:
            with ThreadPoolExecutor(max_workers=min(8, len(records))) as pool:
                list(pool.map(self.stop_instance, records))

    def stop_instance(self, record: InstanceRecord) -> None:
        if record.handle is not None:
            terminate(record.handle, self._settings.stop_timeout_seconds)
        self.reap(record.app, record.version, record.port)
        self._store.delete(record)
        log.info("stopped %s (%s)", record.name, record.address)

    # retire ----------------------------------------------------------------------------------
    def retire(self, app_name: str, version: str) -> None:
        self._registry.get(app_name)
        check_version(version)
        with self._lock.hold():
            self._refuse_if_routed(app_name, version, "retire")
            records = self._store.records(app_name, version)
            for record in records:
                self._store.save(record.model_copy(update={"stopping": True}))
            asked = self._routing.asked(app_name)
            if version in asked.weights:
                weights = {v: w for v, w in asked.weights.items() if v != version}
                self._routing.save_asked(app_name, asked.model_copy(update={"weights": weights}))
            if records and self._routing.nginx.running() is not None:
                self._routing.apply()
            self.stop_instances(records)
            self.reap(app_name, version)
            self._store.delete_spec(app_name, version)
            self._routing.write_file_sd()

    def reap(self, app: str, version: str | None = None, port: int | None = None) -> list[int]:
        """Kill marked processes of `app` (/`version`/`port`), recorded or not."""
        prefix = f"{app}/" if version is None else f"{app}/{version}/"
        exact = f"{app}/{version}/{port}" if port is not None else None
        sessions = [
            p.session for p in owned_processes(self._layout.root)
            if p.instance is not None and (p.instance == exact if exact else
                                           p.instance.startswith(prefix))
        ]
        return kill_sessions(sessions)

    def _refuse_if_routed(self, app: str, version: str, action: str) -> None:
        asked = self._routing.asked(app)
        if asked.weights.get(version, 0) > 0:
            raise TargetError(f"cannot {action} {app} {version}: it still has "
                              f"{asked.weights[version]}% of the traffic; shift it away first")
        for role, current in (("preview", asked.preview), ("stable", asked.stable)):
            if current == version:
                raise TargetError(f"cannot {action} {app} {version}: it is the {role} version")

    # reading ---------------------------------------------------------------------------------
    def instances(self, app_name: str, version: str | None = None) -> list[Instance]:
        app = self._registry.get(app_name)
        records = [r for r in self._store.records(app_name, version) if not r.stopping]
        if not records:
            return []
        with ThreadPoolExecutor(max_workers=min(8, len(records))) as pool:
            ready = list(pool.map(lambda r: self._ready(app, r), records))
        return [Instance(app=r.app, version=r.version, name=r.name, address=r.address, ready=ok)
                for r, ok in zip(records, ready, strict=True)]

    def _ready(self, app: LocalApp, record: InstanceRecord) -> bool:
        handle = record.handle
        if handle is None or not is_alive(handle):
            return False
        try:
            response = loopback_client().get(f"http://{record.address}{app.health_path}",
                                             timeout=0.5)
        except httpx.HTTPError:
            return False
        return response.is_success


def check_version(version: str) -> None:
    if not isinstance(version, str) or not re.fullmatch(VERSION, version):
        raise TargetError(f"invalid version {version!r}: letters, digits, '.', '_', '-'")
