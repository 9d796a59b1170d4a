"""A HelmRelease's values against the chart version it pins.

Helm ignores a values key the chart's templates never read, so `persistance: {size: 10Gi}` installs an app
without its volume and says nothing. Two checks close that gap:
- the keys: wherever the chart's own `values.yaml` has a non-empty mapping, a key it does not define is
  refused (with the nearest known name). An empty mapping (`podAnnotations: {}`) or a non-mapping default is
  free-form there, as the chart means it to be;
- the schema: where the chart ships `values.schema.json`, the values merged over the defaults are validated
  against it, as `helm install` does (Helm validates the merged values, so a `required` key the defaults
  provide is satisfied).
The values of a dependency chart (`grafana:` in kube-prometheus-stack) belong to that subchart, whose own
`values.yaml` is not vendored: they are free-form here, and named so in the chart's `subcharts`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft7Validator

FieldPath = tuple[str | int, ...]
_UNEXPECTED = re.compile(r"\('([^']+)'")  # jsonschema: "('a', 'b' were unexpected)"


@dataclass(frozen=True)
class ChartDefinition:
    """What a chart version says about its values: its defaults and, if it ships one, its schema."""

    name: str
    version: str
    defaults: Mapping[str, Any]
    schema: Mapping[str, Any] | None = None
    subcharts: frozenset[str] = frozenset()  # top-level keys that hold a dependency chart's values


@dataclass(frozen=True)
class ValueProblem:
    path: FieldPath  # inside the HelmRelease's spec.values
    message: str


def value_problems(values: Mapping[str, Any], chart: ChartDefinition) -> list[ValueProblem]:
    problems = list(_unknown_keys(values, chart.defaults, _properties(chart.schema), (), chart))
    if chart.schema is not None:
        merged = _merge(chart.defaults, values)
        validator = Draft7Validator(chart.schema)
        for error in sorted(validator.iter_errors(merged), key=lambda e: [str(p) for p in e.absolute_path]):
            path = tuple(error.absolute_path)
            if error.validator == "additionalProperties":  # point at the unexpected key, not its parent
                path = (*path, *_UNEXPECTED.findall(error.message)[:1])
            problems.append(ValueProblem(path, f"{_short(error.message)} (values.schema.json of {_id(chart)})"))
    return problems


def _unknown_keys(
    values: Mapping[str, Any],
    defaults: Any,
    schema_props: Mapping[str, Any] | None,
    path: FieldPath,
    chart: ChartDefinition,
) -> Iterator[ValueProblem]:
    if not isinstance(defaults, Mapping) or not defaults:
        return  # free-form here: the chart takes whatever mapping it is given
    for key, value in values.items():
        known = key in defaults or (schema_props is not None and key in schema_props)
        if not known:
            hint = difflib.get_close_matches(str(key), [str(k) for k in defaults], n=1)
            did_you_mean = f" (did you mean {hint[0]!r}?)" if hint else ""
            yield ValueProblem(
                (*path, key), f"{key!r} is not a value of chart {_id(chart)}{did_you_mean}: Helm would ignore it"
            )
            continue
        if not path and key in chart.subcharts:
            continue  # a dependency chart's values: not ours to know
        if isinstance(value, Mapping):
            sub_props = _properties((schema_props or {}).get(key)) if schema_props else None
            yield from _unknown_keys(value, defaults.get(key), sub_props, (*path, key), chart)


def _properties(schema: Any) -> Mapping[str, Any] | None:
    if isinstance(schema, Mapping) and isinstance(schema.get("properties"), Mapping):
        props: Mapping[str, Any] = schema["properties"]
        return props
    return None


def _merge(defaults: Any, values: Any) -> Any:
    """Helm's coalescing of user values over chart defaults: maps merge key by key, anything else replaces;
    a user `null` deletes the default key."""
    if not isinstance(defaults, Mapping) or not isinstance(values, Mapping):
        return values
    merged = dict(defaults)
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(defaults.get(key), value)
    return merged


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _id(chart: ChartDefinition) -> str:
    return f"{chart.name} {chart.version}"
