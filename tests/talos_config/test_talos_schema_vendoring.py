"""The vendored Talos schema is the upstream file, unchanged, and covers every document we emit."""

from __future__ import annotations

import hashlib
from importlib import resources

from runner.drivers.talos_schema import SCHEMA_FILE, SCHEMA_PACKAGE, SCHEMA_SHA256, config_schema


def test_vendored_schema_is_byte_identical_to_talos_v1_11_2():
    data = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256
    readme = resources.files(SCHEMA_PACKAGE).joinpath("talos/README.md").read_text()
    assert SCHEMA_SHA256 in readme


def test_schema_knows_the_document_kinds_we_generate():
    schema = config_schema()
    assert schema["$id"] == "https://talos.dev/v1.11/schemas/config.schema.json"
    kinds = {ref["$ref"].rsplit("/", 1)[-1] for ref in schema["oneOf"]}
    assert {"v1alpha1.Config", "extensions.ServiceConfigV1Alpha1"} <= kinds
    extension = schema["$defs"]["extensions.ServiceConfigV1Alpha1"]
    assert extension["properties"]["kind"]["enum"] == ["ExtensionServiceConfig"]
    assert extension["additionalProperties"] is False
