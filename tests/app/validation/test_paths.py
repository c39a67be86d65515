"""Path rules cover a path and what lies below it, never a sibling that shares a prefix."""

from __future__ import annotations

import pytest

from app.validation.paths import is_covered, path_rules

RULES = path_rules(["/rollouts", "/webhooks/"])


@pytest.mark.parametrize(
    ("path", "covered"),
    [
        ("/rollouts", True),
        ("/rollouts/", True),
        ("/rollouts/fraud/promote", True),
        ("/rollouts-admin", False),
        ("/rolloutsX", False),
        ("/webhooks/ci", True),
        ("/webhooks/", True),
        ("/webhooks", False),  # the rule names what lies below /webhooks/ only
        ("/webhooksX/ci", False),
        ("/apps", False),
        ("/", False),
    ],
)
def test_a_rule_covers_its_path_and_below(path: str, covered: bool) -> None:
    assert is_covered(path, RULES) is covered


def test_no_rules_cover_nothing() -> None:
    assert not is_covered("/rollouts", ())


def test_a_rule_must_be_a_path() -> None:
    with pytest.raises(ValueError, match="'rollouts' must start with '/'"):
        path_rules(["rollouts"])
