"""Manifest helpers: Kubernetes name checks and the multi-document YAML renderer."""

from __future__ import annotations

import pytest
import yaml

from app.scaling.manifests import dns_label, to_yaml


@pytest.mark.parametrize("name", ["a", "fraud-api", "v2", "a" * 63, "0abc"])
def test_valid_names(name):
    assert dns_label("name", name) == name


@pytest.mark.parametrize("name", ["", "Fraud", "fraud_api", "-a", "a-", "a" * 64, "a.b"])
def test_invalid_names_name_the_field(name):
    with pytest.raises(ValueError, match="deployment must be a DNS label"):
        dns_label("deployment", name)


def test_to_yaml_keeps_builder_order_and_splits_documents():
    text = to_yaml({"kind": "A", "apiVersion": "v1"}, {"kind": "B"})
    assert text.index("kind: A") < text.index("apiVersion: v1")
    assert list(yaml.safe_load_all(text)) == [{"kind": "A", "apiVersion": "v1"}, {"kind": "B"}]
