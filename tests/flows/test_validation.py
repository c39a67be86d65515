import sys

import pytest

from flows.validation import check_config, check_dependencies, check_migrations


def test_migration_check_passes_on_exit_zero():
    assert check_migrations([sys.executable, "-c", "pass"], 10, {}) == []


def test_migration_check_reports_exit_code_and_output():
    problems = check_migrations(
        [sys.executable, "-c", "import sys; sys.exit('head is 41, code wants 42')"], 10, {}
    )
    assert len(problems) == 1
    assert "exited 1" in problems[0]
    assert "head is 41, code wants 42" in problems[0]


def test_migration_check_sees_the_new_version_env():
    code = "import os, sys; sys.exit(0 if os.environ['DB'] == 'x' else 3)"
    assert check_migrations([sys.executable, "-c", code], 10, {"DB": "x"}) == []


def test_migration_check_times_out():
    problems = check_migrations([sys.executable, "-c", "import time; time.sleep(5)"], 0.3, {})
    assert "did not finish in 0.3s" in problems[0]


def test_migration_check_missing_command():
    assert "command not found" in check_migrations(["no-such-binary-xyz"], 5, {})[0]


def test_no_migration_check_configured():
    assert check_migrations(None, 5, {}) == []


@pytest.mark.parametrize(
    ("requires", "running", "expected"),
    [
        (["payments>=2.3"], {"payments": "2.4.0"}, []),
        (["payments>=2.3"], {"payments": "v2.3"}, []),
        (["payments>=2.3"], {"payments": "2.2.9"}, ["payments>=2.3: payments runs 2.2.9"]),
        (["payments>=2.3,<3"], {"payments": "3.0"}, ["payments runs 3.0"]),
        (["Payments_API>=1"], {"payments-api": "1.2"}, []),
        (["ledger>=1"], {"payments": "1"}, ["ledger is not running on the target"]),
        (["ledger>=1"], {"ledger": None}, ["ledger is not running on the target"]),
        (["payments>=2"], {"payments": "blue"}, ["not a comparable version"]),
        (["payments>>2"], {"payments": "2"}, ["not a valid constraint"]),
    ],
)
def test_dependencies(requires, running, expected):
    problems = check_dependencies(requires, running)
    assert len(problems) == len(expected)
    for problem, part in zip(problems, expected, strict=True):
        assert part in problem


def test_config_missing_and_empty_are_both_reported():
    problems = check_config(["DATABASE_URL", "SECRET", "MODEL"], {"SECRET": "  ", "MODEL": "m"})
    assert problems == [
        "critical config missing: DATABASE_URL",
        "critical config empty: SECRET",
    ]
    assert check_config(["MODEL"], {"MODEL": "m"}) == []
