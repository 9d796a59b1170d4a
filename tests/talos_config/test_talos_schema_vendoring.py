"""The vendored Talos schemas are the upstream files, unchanged, one per supported minor, and cover every document
we emit."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest

from runner.core.talos.contract import SUPPORTED_TALOS_MINORS
from runner.drivers.talos_schema import SCHEMA_PACKAGE, SCHEMA_SHA256, config_schema, schema_file

MINORS = [f"v{a}.{b}" for a, b in SUPPORTED_TALOS_MINORS]


def test_there_is_one_schema_per_supported_minor():
    assert sorted(SCHEMA_SHA256) == MINORS


@pytest.mark.parametrize("minor", MINORS)
def test_vendored_schema_is_byte_identical_to_the_upstream_tag(minor):
    data = resources.files(SCHEMA_PACKAGE).joinpath(schema_file(minor)).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256[minor]
    for readme in ("talos/README.md", f"talos/{minor}/README.md"):
        assert SCHEMA_SHA256[minor] in resources.files(SCHEMA_PACKAGE).joinpath(readme).read_text()


@pytest.mark.parametrize("minor", MINORS)
def test_schema_knows_the_document_kinds_we_generate(minor):
    schema = config_schema(minor)
    assert schema["$id"] == f"https://talos.dev/{minor}/schemas/config.schema.json"
    kinds = {ref["$ref"].rsplit("/", 1)[-1] for ref in schema["oneOf"]}
    assert {"v1alpha1.Config", "extensions.ServiceConfigV1Alpha1"} <= kinds
    extension = schema["$defs"]["extensions.ServiceConfigV1Alpha1"]
    assert extension["properties"]["kind"]["enum"] == ["ExtensionServiceConfig"]
    assert extension["additionalProperties"] is False
    network = {"network.HostnameConfigV1Alpha1", "network.LinkConfigV1Alpha1", "network.ResolverConfigV1Alpha1"}
    assert (network <= kinds) == (minor != "v1.11")  # the multi-document network configs arrive in v1.12
