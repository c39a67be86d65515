"""Blue-green switch time on the local target: reload router vs Lua router, same run, same load.

Goal: < 100 ms from the decision until every NEW request reaches green, 0 failed requests under
>= 100 req/s. For each router a fresh stack (nginx + fraud-api: blue v1 and green v2, 2 replicas
each) serves steady paced traffic from client threads while traffic is switched back and forth.

Per switch, with T0 = the moment `set_weights` is called:
* switch   = start of the last request that began after T0 and still reached the old version,
             minus T0 (0 if none did) — "until every new request reaches green";
* returned = when `set_weights` returned (it waits until nginx serves the new weights).
Then graceful reloads (new instance sets, preview changes) run under the same traffic and
every failed request is counted.

Run: python bench/switch_time.py [--rate 150] [--switches 10] [--reloads 20]
Prints numbers only (no asserts).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.traffic import Traffic
from blocks.local.settings import LocalSettings, RouterName
from blocks.local.stack import LocalStack
from examples.fraud_api.local import fraud_api_app
from tests.support.local_stack import wait_ready
from tests.support.ports import free_port

APP = "fraud-api"


@dataclass
class RouterResult:
    router: str
    switch_ms: list[float]
    returned_ms: list[float]
    switch_failures: int
    reload_failures: int
    reloads: int
    rate: float


def measure(router: RouterName, rate: float, switches: int, reloads: int) -> RouterResult:
    with tempfile.TemporaryDirectory(prefix=f"switch-{router}-") as tmp:
        settings = LocalSettings(state_dir=Path(tmp), admin_port=free_port(),
                                 prometheus_port=free_port(), router=router,
                                 loadgen_enabled=False)
        app = fraud_api_app(entry_port=free_port(), preview_port=free_port(), replicas=2)
        stack = LocalStack(settings)
        try:
            target = stack.target
            target.register_app(app)
            with target.state_lock.hold():
                target.routing.start_nginx()
            for version in ("v1", "v2"):
                target.ensure_instances(APP, version, 2, {})
                wait_ready(target, APP, version)
            target.set_weights(APP, {"v1": 100})
            target.mark_stable(APP, "v1")
            url = f"http://127.0.0.1:{app.entry_port}"
            switch_ms: list[float] = []
            returned_ms: list[float] = []
            with Traffic(url, rate) as traffic:
                time.sleep(1.0)
                began = time.monotonic()
                for i in range(switches):
                    old, new = ("v1", "v2") if i % 2 == 0 else ("v2", "v1")
                    t0 = time.monotonic()
                    target.set_weights(APP, {new: 100})
                    returned_ms.append((time.monotonic() - t0) * 1000)
                    time.sleep(0.6)  # let requests started around the switch finish
                    late_old = [t for t, v in traffic.log if t >= t0 and v == old]
                    switch_ms.append((max(late_old) - t0) * 1000 if late_old else 0.0)
                achieved = traffic.achieved_rate(began)
                switch_failures = len(traffic.failures)
                for i in range(reloads):
                    target.set_preview(APP, "v2" if i % 2 == 0 else None)  # a real reload
                reload_failures = len(traffic.failures) - switch_failures
            return RouterResult(router, switch_ms, returned_ms, switch_failures,
                                reload_failures, reloads, achieved)
        finally:
            stack.down()


def summary(values: list[float]) -> str:
    return (f"median {statistics.median(values):6.1f} ms   max {max(values):6.1f} ms   "
            f"min {min(values):6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=150.0, help="client requests per second")
    parser.add_argument("--switches", type=int, default=10)
    parser.add_argument("--reloads", type=int, default=20)
    args = parser.parse_args()
    results = [measure(router, args.rate, args.switches, args.reloads)
               for router in ("reload", "lua")]
    for r in results:
        print(f"router={r.router:<6}  client rate {r.rate:5.0f} req/s")
        print(f"  switch (last old-version request after decision): {summary(r.switch_ms)}")
        print(f"  set_weights returned after:                       {summary(r.returned_ms)}")
        print(f"  failed requests: {r.switch_failures} during {len(r.switch_ms)} switches, "
              f"{r.reload_failures} during {r.reloads} graceful reloads")
    reload, lua = results
    ratio = statistics.median(lua.switch_ms) / max(statistics.median(reload.switch_ms), 1e-9)
    print(f"lua/reload median switch time ratio: {ratio:.3f} "
          f"(goal: under 100 ms; reload {statistics.median(reload.switch_ms):.0f} ms, "
          f"lua {statistics.median(lua.switch_ms):.0f} ms)")


if __name__ == "__main__":
    main()
