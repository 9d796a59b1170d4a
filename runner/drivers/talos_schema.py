"""Validation of machine-config documents against the vendored Talos v1.11 JSON schema.

The schema ships inside the package (runner/vendored/talos, see its README for source and sha256;
the Talos twin reads the same copy) and is read through importlib.resources, so validation works from a
wheel and offline.
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
from runner.core.talos.documents import parse_machine_config, secret_strings

SCHEMA_PACKAGE = "runner.vendored"
SCHEMA_FILE = "talos/config.schema.json"
SCHEMA_SHA256 = "9791769e639e5c211e725825dfd5522524b6fab29a3ca7c43f47295c29f3bf4f"


@cache
def config_schema() -> dict[str, Any]:
    text = resources.files(SCHEMA_PACKAGE).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(config_schema(), format_checker=FormatChecker())


def schema_errors(document: Mapping[str, Any], secrets: Iterable[str] = ()) -> list[str]:
    """Every schema violation of one document as `path: message` (empty when valid).

    Paths read like the config itself: `machine.network.interfaces[0].addresses[0]`.

    The root schema is a `oneOf` over document kinds; its message names no field, so each document
    is also checked against the definition of its own kind to say exactly what is wrong.
    """
    plain = reveal_tree(document)
    errors = list(_validator().iter_errors(plain))
    if not errors:
        return []
    definition = _definition_for(plain)
    if definition is not None:
        kind_schema = {"$ref": f"#/$defs/{definition}", "$defs": config_schema()["$defs"]}
        detailed = list(Draft202012Validator(kind_schema, format_checker=FormatChecker()).iter_errors(plain))
        errors = detailed or errors
    # Messages may quote the offending value; never let that be a secret.
    redact = Redactor([*secret_strings([document]), *secrets])
    return sorted(redact(f"{_path(e.absolute_path)}: {e.message}") for e in errors)


def _path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "<document>"


def _definition_for(document: Mapping[str, Any]) -> str | None:
    if "kind" not in document:
        return "v1alpha1.Config"
    for ref in config_schema()["oneOf"]:
        name = ref["$ref"].rsplit("/", 1)[-1]
        kinds = config_schema()["$defs"][name].get("properties", {}).get("kind", {}).get("enum", [])
        if document.get("kind") in kinds:
            return str(name)
    return None


def validate_documents(
    documents: Sequence[Mapping[str, Any]], source: str = "machine config", secrets: Iterable[str] = ()
) -> None:
    """Raise Permanent naming the document and field of every violation; secrets never appear."""
    known = list(secrets)
    problems = [
        f"{source} document {index + 1}: {problem}"
        for index, document in enumerate(documents)
        for problem in schema_errors(document, known)
    ]
    if problems:
        raise Permanent("\n".join(problems))


def validate_config_text(text: Secret, source: str, secrets: Iterable[str] = ()) -> None:
    """Check the exact text about to be sent, document by document (Permanent when it is not valid YAML)."""
    try:
        documents = parse_machine_config(text.reveal())
    except ValueError as exc:  # ruamel's errors are ValueErrors too; their text may quote a secret
        raise Permanent(f"{source}: not a YAML list of mappings ({type(exc).__name__})") from None
    validate_documents(documents, source, secrets)
