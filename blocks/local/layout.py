"""Where everything lives in a local state directory (one place to read the layout from).

```
<state>/settings.json                      LocalSettings the stack was started with
<state>/locks/state.lock                   serialises instance/routing/nginx changes (flock)
<state>/apps/<app>/app.json                LocalApp definition (registered apps)
<state>/apps/<app>/routing.json            weights/preview/stable asked for (nginx is the truth)
<state>/apps/<app>/versions/<v>.json       env and count last ensured for a version
<state>/apps/<app>/instances/<v>/<port>.json  one record per instance process (written BEFORE spawn)
<state>/apps/<app>/rollout.json            current rollout record (opaque JSON owned by flows)
<state>/apps/<app>/history/<id>.json       every rollout record, newest state of each
<state>/apps/<app>/rollout.lock            flock held by whoever drives a rollout
<state>/apps/<app>/commands/*.cmd          pending commands (abort, promote, ...)
<state>/apps/<app>/snapshots/<id>.json     sealed snapshots
<state>/nginx/                             nginx prefix: nginx.conf, generation, nginx.pid, tmp/
<state>/prometheus/                        prometheus.yml, targets/<app>.json (file_sd), data/
<state>/loadgen/                           config.json (read live), stats.json (written each second)
<state>/procs/<name>.json                  managed stack processes (nginx, prometheus, loadgen, ...)
<state>/logs/                              <name>.log, nginx-error.log, <app>/<version>-<port>.log
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StateLayout:
    root: Path

    # stack-wide -----------------------------------------------------------------------------
    @property
    def state_lock(self) -> Path:
        return self.root / "locks" / "state.lock"

    @property
    def stack_lock(self) -> Path:
        return self.root / "locks" / "stack.lock"

    @property
    def apps_dir(self) -> Path:
        return self.root / "apps"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def procs_dir(self) -> Path:
        return self.root / "procs"

    @property
    def nginx_dir(self) -> Path:
        return self.root / "nginx"

    @property
    def nginx_conf(self) -> Path:
        return self.nginx_dir / "nginx.conf"

    @property
    def nginx_pid(self) -> Path:
        return self.nginx_dir / "nginx.pid"

    @property
    def nginx_error_log(self) -> Path:
        return self.logs_dir / "nginx-error.log"

    @property
    def generation_file(self) -> Path:
        return self.nginx_dir / "generation"

    @property
    def prometheus_dir(self) -> Path:
        return self.root / "prometheus"

    @property
    def file_sd_dir(self) -> Path:
        return self.prometheus_dir / "targets"

    @property
    def loadgen_config(self) -> Path:
        return self.root / "loadgen" / "config.json"

    @property
    def loadgen_stats(self) -> Path:
        return self.root / "loadgen" / "stats.json"

    def proc_record(self, name: str) -> Path:
        return self.procs_dir / f"{name}.json"

    def proc_log(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    # per app --------------------------------------------------------------------------------
    def app_dir(self, app: str) -> Path:
        return self.apps_dir / app

    def app_file(self, app: str) -> Path:
        return self.app_dir(app) / "app.json"

    def routing_file(self, app: str) -> Path:
        return self.app_dir(app) / "routing.json"

    def versions_dir(self, app: str) -> Path:
        return self.app_dir(app) / "versions"

    def version_file(self, app: str, version: str) -> Path:
        return self.versions_dir(app) / f"{version}.json"

    def instances_dir(self, app: str, version: str | None = None) -> Path:
        base = self.app_dir(app) / "instances"
        return base if version is None else base / version

    def instance_file(self, app: str, version: str, port: int) -> Path:
        return self.instances_dir(app, version) / f"{port}.json"

    def instance_log(self, app: str, version: str, port: int) -> Path:
        return self.logs_dir / app / f"{version}-{port}.log"

    def record_file(self, app: str) -> Path:
        return self.app_dir(app) / "rollout.json"

    def history_dir(self, app: str) -> Path:
        return self.app_dir(app) / "history"

    def rollout_lock(self, app: str) -> Path:
        return self.app_dir(app) / "rollout.lock"

    def commands_dir(self, app: str) -> Path:
        return self.app_dir(app) / "commands"

    def snapshots_dir(self, app: str) -> Path:
        return self.app_dir(app) / "snapshots"
