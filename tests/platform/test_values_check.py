"""The values check on its own: chart definitions written here, so each rule shows by itself."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from runner.core.platform.values_check import ChartDefinition, value_problems

DEFAULTS: dict[str, Any] = {
    "persistence": {"enabled": False, "size": "8Gi"},
    "podAnnotations": {},
    "image": "app:1.0",
    "grafana": {"enabled": True},
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["image"],
    "properties": {"persistence": {"type": "object", "properties": {"enabled": {"type": "boolean"}}}},
}
CHART = ChartDefinition("app", "1.2.3", DEFAULTS, SCHEMA, frozenset({"grafana"}))


def paths(values: dict[str, Any], chart: ChartDefinition = CHART) -> list[tuple[object, ...]]:
    return [p.path for p in value_problems(values, chart)]


def test_a_key_the_chart_does_not_define_is_named_with_the_nearest_known_one() -> None:
    [problem] = value_problems({"persistance": {"size": "1Gi"}}, CHART)
    assert problem.path == ("persistance",)
    assert problem.message == (
        "'persistance' is not a value of chart app 1.2.3 (did you mean 'persistence'?): Helm would ignore it"
    )


def test_a_wrong_type_is_refused_by_the_charts_schema() -> None:
    [problem] = value_problems({"persistence": {"enabled": "yes"}}, CHART)
    assert problem.path == ("persistence", "enabled")
    assert problem.message == "'yes' is not of type 'boolean' (values.schema.json of app 1.2.3)"


def test_a_required_value_the_defaults_provide_is_satisfied_but_deleting_it_is_not() -> None:
    assert paths({}) == []
    assert paths({"image": None}) == [()]  # Helm: a null deletes the default


def test_empty_maps_and_subcharts_are_free_form() -> None:
    assert paths({"podAnnotations": {"anything": "goes"}, "grafana": {"persistence": {"size": "5Gi"}}}) == []


@given(st.dictionaries(st.text(min_size=1, max_size=12), st.integers(), max_size=5))
def test_keys_under_a_free_form_map_are_never_refused(annotations: dict[str, int]) -> None:
    assert paths({"podAnnotations": annotations}) == []


@given(st.text(min_size=1, max_size=20).filter(lambda k: k not in DEFAULTS))
def test_any_top_level_key_the_chart_lacks_is_refused_exactly_once(key: str) -> None:
    assert paths({key: 1}) == [(key,)]
