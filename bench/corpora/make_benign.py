"""Rebuild the benign corpora that come from files already on a Debian machine.

Run once by hand (`python bench/corpora/make_benign.py`); the output is committed so the bench
does not depend on what happens to be installed. Sources and licences: bench/corpora/README.md.

* fortunes.rec  - Debian package `fortunes` (BSD): seven topic files, one record per fortune.
* markdown.rec  - the Markdown long descriptions (README) that permissively licensed Python
                  packages ship in their `*.dist-info/METADATA`, split into blocks; fenced code
                  blocks go to code.rec instead.
* code.rec      - those fenced code blocks (Python, shell, TOML...) plus 6-line windows of a few
                  CPython standard-library modules (PSF licence).

Records are separated by a line holding only `%` (the fortune format).
"""

from __future__ import annotations

import email
import re
import sysconfig
from pathlib import Path

OUT = Path(__file__).parent / "benign"
FORTUNE_DIR = Path("/usr/share/games/fortunes")
FORTUNE_FILES = ["fortunes", "literature", "wisdom", "people", "science", "humorists", "computers"]
README_PACKAGES = [
    "httpx",
    "rich",
    "fastapi",
    "typer",
    "starlette",
    "uvicorn",
    "redis",
    "pydantic",
    "httpcore",
    "slowapi",
    "humanize",
    "cyclopts",
    "griffe",
    "nh3",
    "pydantic_settings",
]
STDLIB_MODULES = [
    "textwrap.py",
    "shlex.py",
    "json/encoder.py",
    "fnmatch.py",
    "glob.py",
    "string.py",
]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)


def write_records(name: str, records: list[str]) -> None:
    cleaned = [r.strip("\n") for r in records if r.strip() and r.strip() != "%"]
    (OUT / name).write_text("\n%\n".join(cleaned) + "\n", encoding="utf-8")
    print(f"{name}: {len(cleaned)} records")


def fortunes() -> list[str]:
    records: list[str] = []
    for name in FORTUNE_FILES:
        text = (FORTUNE_DIR / name).read_text(encoding="utf-8", errors="replace")
        records += text.split("\n%\n")
    return records


def readme(package: str) -> str:
    site = Path(sysconfig.get_paths()["purelib"])
    meta = next(site.glob(f"{package}-*.dist-info/METADATA"))
    message = email.message_from_string(meta.read_text(encoding="utf-8"))
    body = message.get_payload()
    return body if isinstance(body, str) else ""


def markdown_and_code() -> tuple[list[str], list[str]]:
    blocks: list[str] = []
    code: list[str] = []
    for package in README_PACKAGES:
        text = readme(package)
        for match in FENCE.finditer(text):
            lines = match.group(1).strip("\n").splitlines()
            code += ["\n".join(lines[i : i + 8]) for i in range(0, len(lines), 8)]
        prose = FENCE.sub("", text)
        blocks += [b for b in re.split(r"\n\s*\n", prose) if len(b.strip()) > 1]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for module in STDLIB_MODULES:
        source = (stdlib / module).read_text(encoding="utf-8")
        lines = [line for line in source.splitlines() if line.strip()]
        code += ["\n".join(lines[i : i + 6]) for i in range(0, len(lines), 6)]
    return blocks, code


def main() -> None:
    OUT.mkdir(exist_ok=True)
    write_records("fortunes.rec", fortunes())
    blocks, code = markdown_and_code()
    write_records("markdown.rec", blocks)
    write_records("code.rec", code)


if __name__ == "__main__":
    main()
