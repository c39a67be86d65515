"""Detection, false positives and cost of the input-validation detectors, measured in one run.

    python bench/validation_detection.py

Prints three tables:
1. detection % on public SQLi / XSS payload lists and false-positive % on benign text, for
   our detectors, the seed's regex blacklist (re-implemented below) and libinjection alone;
   every corpus is split by a hash of each line into a dev half (used while tuning the rules)
   and a held-out half (never used for tuning), both reported;
2. microseconds per input for each detector;
3. the middleware's cost per request (query string, typical JSON body) against the same app
   without it, measured in-process on the same machine in the same run.

Times are CPU time of this process (`time.process_time_ns`), best of several rounds, so other
work on the machine inflates them less than wall-clock time would; compare rows of one run.
Corpora and their sources: bench/corpora/README.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import libinjection
from fastapi import FastAPI
from pydantic import BaseModel

from app.config import Settings
from app.validation.middleware import ValidationMiddleware
from app.validation.sanitizer import DataSanitizer
from app.validation.scanning import scan_json
from app.validation.sqli import detect_sql_injection
from app.validation.xss import detect_xss

CORPORA = Path(__file__).parent / "corpora"
PROSE = ["fortunes.rec", "markdown.rec", "names.txt", "sql-prose.txt"]
CODE = ["code.rec", "shell.txt"]

# The seed's blacklist ("SQL: UNION, SELECT, INSERT, DELETE, DROP, --, /*, xp_, sp_";
# "XSS: <script>, on\w+=, javascript:, vbscript:"), plus the quote meta-character rule that
# makes it flag "O'Brien".
_SEED_SQL = re.compile(r"\b(union|select|insert|delete|drop)\b|--|/\*|xp_|sp_|'|%27", re.I)
_SEED_XSS = re.compile(r"<script|on\w+\s*=|javascript:|vbscript:", re.I)


@dataclass(frozen=True)
class Detector:
    name: str
    sqli: Callable[[str], bool]
    xss: Callable[[str], bool]


DETECTORS = [
    Detector("ours (libinjection + rules)", detect_sql_injection, detect_xss),
    Detector(
        "seed regex blacklist",
        lambda s: bool(_SEED_SQL.search(s)),
        lambda s: bool(_SEED_XSS.search(s)),
    ),
    Detector(
        "libinjection alone",
        lambda s: bool(libinjection.is_sql_injection(s)["is_sqli"]),
        lambda s: bool(libinjection.is_xss(s)["is_xss"]),
    ),
]


def _records(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    parts = text.split("\n%\n") if path.suffix == ".rec" else text.split("\n")
    return [p for p in parts if p.strip()]


def _unique(paths: list[Path]) -> list[str]:
    seen: dict[str, None] = {}
    for path in paths:
        for record in _records(path):
            seen.setdefault(record, None)
    return list(seen)


def _is_dev(text: str) -> bool:
    """The split: even first byte of the line's SHA-256 is dev, odd is held out."""
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 2 == 0


def _split(items: list[str]) -> tuple[list[str], list[str]]:
    return [s for s in items if _is_dev(s)], [s for s in items if not _is_dev(s)]


def _rate(items: list[str], flag: Callable[[str], bool]) -> str:
    return f"{100 * sum(map(flag, items)) / len(items):6.1f}" if items else "   n/a"


def detection_table() -> list[str]:
    sqli = _split(_unique(sorted((CORPORA / "sqli").glob("*.txt"))))
    xss = _split(_unique(sorted((CORPORA / "xss").glob("*.txt"))))
    prose = _split(_unique([CORPORA / "benign" / n for n in PROSE]))
    code = _split(_unique([CORPORA / "benign" / n for n in CODE]))
    print("Detection and false positives, % (dev half / held-out half)")
    print(
        f"  corpora: SQLi {len(sqli[0])}/{len(sqli[1])}, XSS {len(xss[0])}/{len(xss[1])}, "
        f"benign prose {len(prose[0])}/{len(prose[1])}, code {len(code[0])}/{len(code[1])}"
    )
    print(
        f"  {'detector':30}"
        + "".join(
            f" {h:>15}" for h in ("SQLi caught", "XSS caught", "prose flagged", "code flagged")
        )
    )
    for d in DETECTORS:
        either = lambda s, d=d: d.sqli(s) or d.xss(s)  # noqa: E731
        cells = [
            f"{_rate(sqli[0], d.sqli)} /{_rate(sqli[1], d.sqli)}",
            f"{_rate(xss[0], d.xss)} /{_rate(xss[1], d.xss)}",
            f"{_rate(prose[0], either)} /{_rate(prose[1], either)}",
            f"{_rate(code[0], either)} /{_rate(code[1], either)}",
        ]
        print(f"  {d.name:30} " + " ".join(f"{c:>15}" for c in cells))
    print(
        "  prose = fortunes + Markdown READMEs + names + SQL-looking prose; a benign input counts"
    )
    print("  as flagged if either detector (SQLi or XSS) flags it.")
    print()
    print("  False positives per benign corpus, ours, % (dev / held-out):")
    ours = DETECTORS[0]
    for name in PROSE + CODE:
        dev, held = _split(_unique([CORPORA / "benign" / name]))
        flag = lambda s: ours.sqli(s) or ours.xss(s)  # noqa: E731
        print(
            f"    {name:16} {_rate(dev, flag)} /{_rate(held, flag)}"
            f"   ({len(dev)}/{len(held)} inputs)"
        )
    return sqli[0] + sqli[1] + xss[0] + xss[1] + prose[0] + prose[1] + code[0] + code[1]


def _per_call_us(function: Callable[[Any], Any], items: list[Any], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time_ns()
        for item in items:
            function(item)
        best = min(best, (time.process_time_ns() - start) / len(items) / 1000)
    return best


def cost_table(inputs: list[str]) -> None:
    short = [s for s in inputs if len(s) <= 64]
    print()
    print(
        f"Cost per input, µs (best of 3; all {len(inputs)} inputs"
        f" / the {len(short)} of <= 64 chars)"
    )
    for d in DETECTORS:
        both = lambda s, d=d: d.sqli(s) or d.xss(s)  # noqa: E731
        print(f"  {d.name:30} {_per_call_us(both, inputs):8.1f} {_per_call_us(both, short):8.1f}")


TRANSACTION = {
    "transaction_id": "tx_2026_11_27_000123",
    "user_id": "user_8f3a2c",
    "amount": "149.99",
    "currency": "EUR",
    "merchant": {"name": "O'Reilly Books & Co.", "category": "books", "country": "IE"},
    "card": {"bin": "535522", "last4": "4242", "expiry": "2028-09"},
    "customer": {"name": "Siobhán O'Sullivan", "email": "siobhan.osullivan@example.ie"},
    "device": {"ip": "203.0.113.42", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0"},
    "shipping_address": "12 O'Connell St., Dublin 1 -- leave at the door",
    "note": "Please select gift wrap; drop me a line if it's late.",
    "items": [{"sku": f"SKU-{i:04d}", "qty": 1, "price": "49.99"} for i in range(3)],
}


def _asgi_costs_us(apps: list[Any], scope: dict[str, Any], body: bytes, n: int) -> list[float]:
    """µs per request for each app; rounds interleave the apps and the best round counts, so
    load from other processes on the machine hits every app alike."""

    async def send(message: dict[str, Any]) -> None:
        return None

    async def one_round(app: Any) -> float:
        start = time.process_time_ns()
        for _ in range(n):
            sent = False

            async def receive() -> dict[str, Any]:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            await app(dict(scope), receive, send)  # apps may add keys to their scope
        return (time.process_time_ns() - start) / n / 1000

    async def run() -> list[float]:
        best = [float("inf")] * len(apps)
        for _ in range(7):
            for i, app in enumerate(apps):
                best[i] = min(best[i], await one_round(app))
        return best

    return asyncio.run(run())


async def _bare_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


class Item(BaseModel):
    sku: str
    qty: int
    price: str


class Transaction(BaseModel):
    transaction_id: str
    user_id: str
    amount: str
    currency: str
    merchant: dict[str, str]
    card: dict[str, str]
    customer: dict[str, str]
    device: dict[str, str]
    shipping_address: str
    note: str
    items: list[Item]


def _fastapi_app() -> FastAPI:
    """The peer that matters: a FastAPI route validating the same body into a pydantic model."""
    app = FastAPI()

    @app.post("/transactions")
    async def create(transaction: Transaction) -> dict[str, str]:
        return {"id": transaction.transaction_id}

    @app.get("/transactions")
    async def search(page: int = 1, size: int = 20, q: str = "", sort: str = "") -> list[str]:
        return []

    return app


def middleware_table() -> None:
    body = json.dumps(TRANSACTION).encode()
    sanitizer = DataSanitizer()
    json_us = _per_call_us(lambda b: scan_json(sanitizer, b), [body] * 2000)
    fastapi_app = _fastapi_app()
    apps = [
        _bare_app,
        ValidationMiddleware(_bare_app, Settings()),
        fastapi_app,
        ValidationMiddleware(fastapi_app, Settings()),
    ]
    base = {"type": "http", "http_version": "1.1", "scheme": "http", "root_path": ""}
    get = {
        **base,
        "method": "GET",
        "path": "/transactions",
        "headers": [],
        "query_string": b"page=2&size=50&q=Please+select+an+option&sort=-created",
    }
    post = {
        **base,
        "method": "POST",
        "path": "/transactions",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
    }
    print()
    print("Middleware cost per request, µs (CPU, best of 7 x 2000, in-process)")
    print(
        f"  typical JSON body: {len(body)} B, {sum(1 for _ in _strings(TRANSACTION))} strings;"
        f" scan_json alone {json_us:.1f} µs"
    )
    header = ("bare ASGI", "+validation", "FastAPI route", "+validation", "added", "x FastAPI")
    print(f"  {'request':26}" + "".join(f" {h:>13}" for h in header))
    for label, scope, payload in [
        ("GET, 4 query params", get, b""),
        ("POST, typical JSON body", post, body),
    ]:
        bare, bare_v, route, route_v = _asgi_costs_us(apps, scope, payload, 2000)
        added = route_v - route
        cells = [bare, bare_v, route, route_v, added]
        print(
            f"  {label:26}" + "".join(f" {c:13.1f}" for c in cells) + f" {route_v / route:12.2f}x"
        )
    print("  budget for the whole middleware stack (rate limit + validation + metrics): 300 µs")


def _strings(node: Any) -> Any:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def main() -> None:
    inputs = detection_table()
    cost_table(inputs)
    middleware_table()


if __name__ == "__main__":
    main()
