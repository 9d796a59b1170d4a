"""Validation of machine-config documents against the vendored JSON schema of the node's Talos minor.

Each supported minor's schema ships inside the package (runner/vendored/talos/v1.<minor>, see the README for
source and sha256; the Talos twin reads the same copies) and is read through importlib.resources, so
validation works from a wheel and offline. A document is checked against the schema of the Talos version
that will decode it: a kind that version does not know, or a key it dropped, is refused here rather than by
the node.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from runner.core.errors import Permanent
from runner.core.secret import Redactor, Secret, reveal_tree
from runner.core.talos.contract import VersionContract
from runner.core.talos.documents import parse_machine_config, secret_strings

SCHEMA_PACKAGE = "runner.vendored"
# Talos minor -> sha256 of its vendored schema (runner/vendored/talos/README.md names the tags).
SCHEMA_SHA256 = {
    "v1.11": "9791769e639e5c211e725825dfd5522524b6fab29a3ca7c43f47295c29f3bf4f",
    "v1.12": "68e5cb55243fabb422a25ed91e4c772c6a78b380c1e75d1df7fe3f390cc576ff",
    "v1.13": "3729ac38813c92a35d3159444402d9e7955b5b67aa28303969d5e1d1fa9d2d1d",
}


# v1alpha1 keys Talos still decodes but leaves out of its schema: `ConfigPersist` (docgen:nodoc, "Deprecated:
# Not supported anymore", pkg/machinery/config/types/v1alpha1/v1alpha1_types.go at v1.11.6 and v1.13.9).
HIDDEN_V1ALPHA1_KEYS = frozenset({"persist"})


def schema_file(minor: str) -> str:
    return f"talos/{minor}/config.schema.json"


def schema_minor(talos_version: str) -> str:
    """`v1.12` for v1.12.3; Permanent when the runner has no schema for that Talos."""
    try:
        return VersionContract.of(talos_version).schema_dir
    except ValueError as exc:
        raise Permanent(f"machine config for Talos {talos_version}: {exc}") from None


@cache
def config_schema(minor: str) -> dict[str, Any]:
    text = resources.files(SCHEMA_PACKAGE).joinpath(schema_file(minor)).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(minor: str, definition: str | None = None) -> Draft202012Validator:
    schema = config_schema(minor)
    if definition is not None:
        schema = {"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]}
    return Draft202012Validator(schema, format_checker=FormatChecker())


def schema_errors(document: Mapping[str, Any], talos_version: str, secrets: Iterable[str] = ()) -> list[str]:
    """Every violation of one document against the schema of `talos_version` as `path: message` (empty when
    valid).

    Paths read like the config itself: `machine.network.interfaces[0].addresses[0]`.

    The root schema is a `oneOf` over document kinds; its message names no field, so each document
    is also checked against the definition of its own kind to say exactly what is wrong.
    """
    minor = schema_minor(talos_version)
    plain = reveal_tree(document)
    if "kind" not in plain:  # Talos decodes keys its schema hides (docgen:nodoc): a boolean `persist` passes
        plain = {k: v for k, v in plain.items() if not (k in HIDDEN_V1ALPHA1_KEYS and isinstance(v, bool))}
    errors = list(_validator(minor).iter_errors(plain))
    if not errors:
        return []
    definition = _definition_for(plain, minor)
    if definition is None and "kind" in plain:
        return [f"<document>: kind {str(plain['kind'])[:64]!r} is not a document Talos {minor} knows"]
    if definition is not None:
        errors = list(_validator(minor, definition).iter_errors(plain)) or errors
    # Messages may quote the offending value; never let that be a secret.
    redact = Redactor([*secret_strings([document]), *secrets])
    return sorted(redact(f"{_path(e.absolute_path)}: {e.message}") for e in errors)


def _path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "<document>"


def _definition_for(document: Mapping[str, Any], minor: str) -> str | None:
    if "kind" not in document:
        return "v1alpha1.Config"
    schema = config_schema(minor)
    for ref in schema["oneOf"]:
        name = ref["$ref"].rsplit("/", 1)[-1]
        kinds = schema["$defs"][name].get("properties", {}).get("kind", {}).get("enum", [])
        if document.get("kind") in kinds:
            return str(name)
    return None


def validate_documents(
    documents: Sequence[Mapping[str, Any]],
    talos_version: str,
    source: str = "machine config",
    secrets: Iterable[str] = (),
) -> None:
    """Raise Permanent naming the document and field of every violation; secrets never appear."""
    known = list(secrets)
    minor = schema_minor(talos_version)
    problems = [
        f"{source} document {index + 1} (Talos {minor} schema): {problem}"
        for index, document in enumerate(documents)
        for problem in schema_errors(document, talos_version, known)
    ]
    if problems:
        raise Permanent("\n".join(problems))


def validate_config_text(text: Secret, talos_version: str, source: str, secrets: Iterable[str] = ()) -> None:
    """Check the exact text about to be sent to a node running `talos_version`, document by document
    (Permanent when it is not valid YAML)."""
    try:
        documents = parse_machine_config(text.reveal())
    except ValueError as exc:  # ruamel's errors are ValueErrors too; their text may quote a secret
        raise Permanent(f"{source}: not a YAML list of mappings ({type(exc).__name__})") from None
    validate_documents(documents, talos_version, source, secrets)
