"""App definitions: validated on input, stored as YAML, and errors that name the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from blocks.errors import TargetError
from blocks.kubernetes.app import KubernetesApp
from tests.support.k8s_target import UNHEALTHY_ENV, shop_app
from tests.support.kwok_stages import NOT_READY_ANNOTATIONS


def test_the_definition_round_trips_through_yaml() -> None:
    app = shop_app()
    assert KubernetesApp.from_yaml(app.to_yaml(), "test") == app


def test_the_image_template_fills_in_the_version() -> None:
    assert shop_app().image_for("2.4.1") == "registry.example/shop:2.4.1"


@pytest.mark.parametrize(
    ("image", "problem"),
    [("registry.example/shop:latest", "exactly the placeholder {version}"),
     ("registry.example/{app}:{version}", "exactly the placeholder {version}"),
     ("registry.example/shop :{version}", "whitespace")],
)
def test_bad_image_templates_are_refused(image: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        shop_app(image=image)


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Shop"), ("replicas", 0), ("container_port", 70000), ("env", {"1BAD": "x"}),
     ("health_path", "health"), ("router", {"host": "Not A Host"}), ("unknown", 1)],
)
def test_bad_fields_are_refused_by_name(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        shop_app(**{field: value})


def test_a_damaged_stored_definition_names_where_it_is() -> None:
    pattern = r"(?s)ConfigMap ns/floodgate-app-shop is invalid.*replicas"
    with pytest.raises(TargetError, match=pattern):
        KubernetesApp.from_yaml("name: shop\nimage: r/s:{version}\nreplicas: -1\n",
                                "ConfigMap ns/floodgate-app-shop")


def test_env_annotations_are_the_kwok_fault_hook() -> None:
    app = shop_app()
    assert app.annotations_for(UNHEALTHY_ENV) == NOT_READY_ANNOTATIONS
    assert app.annotations_for({"FAULT_UNHEALTHY": "0"}) == {}
    assert app.annotations_for({}) == {}
