"""Where the middleware's time goes, without the noise: instructions and simulated L1 cache
misses per request, counted by valgrind's callgrind, for the variants of middleware_stack.py.

Timings on a shared 2-core VM move by +-20 % between runs; instruction counts do not. Each
variant runs twice under callgrind (200 and 1,200 requests after the same warm-up) and the
difference / 1,000 is the cost of one request, start-up excluded. Compare "x bare" for
instructions with the timed ratio of middleware_stack.py: when time grows faster than
instructions, the extra time is cache misses (new code and data the request touches), which
is what to cut next.

Run from the repository root (needs valgrind; ~2 min per variant, two at a time):
    python bench/middleware_instructions.py [--variants "bare FastAPI" "floodgate stack" ...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.middleware_stack import VARIANTS, drive  # noqa: E402

EVENTS = ("Ir", "I1mr", "D1mr", "D1mw")
DEFAULT_VARIANTS = ("bare FastAPI", "ids + metrics", "floodgate stack", "4 layers stacked")
WARM_UP, SHORT, LONG = 300, 200, 1200


def child(variant: str, requests: int) -> None:
    """Run inside callgrind: build one app, warm it up, serve `requests` GETs."""
    app = VARIANTS[variant]()

    async def run() -> None:
        limiter = getattr(app.state, "rate_limiter", None)
        if limiter is not None:
            await limiter.start()
        await drive(app, WARM_UP)
        await drive(app, requests)

    asyncio.run(run())


def counted(variant: str, requests: int) -> dict[str, int]:
    """Totals of EVENTS for one callgrind run of `child`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--cache-sim=yes", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", variant, str(requests)],
            cwd=ROOT, check=True, capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        text = out.read_text()
    names = re.search(r"^events: (.+)$", text, re.M)
    totals = re.search(r"^(?:summary|totals): (.+)$", text, re.M)
    if names is None or totals is None:
        raise RuntimeError(f"no totals in the callgrind output of {variant}")
    values = dict(zip(names.group(1).split(), map(int, totals.group(1).split()), strict=False))
    return {event: values[event] for event in EVENTS}


def per_request(variant: str) -> dict[str, float]:
    short, long = counted(variant, SHORT), counted(variant, LONG)
    return {event: (long[event] - short[event]) / (LONG - SHORT) for event in EVENTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(DEFAULT_VARIANTS))
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f"--variants: unknown {unknown}; known: {list(VARIANTS)}")
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(args.variants, pool.map(per_request, args.variants), strict=True))
    base = results[args.variants[0]]
    misses = ("I1mr", "D1mr", "D1mw")
    print(f"\n{'variant':<20}{'instructions':>14}{'x base':>8}{'L1 misses':>11}{'x base':>8}"
          f"{'  (I1 / D1 read / D1 write)'}")
    for name, counts in results.items():
        total = sum(counts[m] for m in misses)
        base_total = sum(base[m] for m in misses)
        print(f"{name:<20}{counts['Ir']:>14,.0f}{base['Ir'] / counts['Ir']:>8.3f}{total:>11,.0f}"
              f"{base_total / total:>8.3f}  ({counts['I1mr']:,.0f} / {counts['D1mr']:,.0f}"
              f" / {counts['D1mw']:,.0f})")
    print(f"\nPer GET request, callgrind with its default simulated caches; base ="
          f" {args.variants[0]!r}; x base = base / variant (as a throughput ratio).")


if __name__ == "__main__":
    main()
