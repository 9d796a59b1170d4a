"""The Helm chart's values: values.yaml satisfies values.schema.json, which refuses what the runner would."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from tests.deploy.chart import CHART, default_values, merged, template
from tests.deploy.gotemplate import TemplateError, render


def _schema() -> dict[str, object]:
    schema: dict[str, object] = json.loads((CHART / "values.schema.json").read_text())
    return schema


def test_the_default_values_satisfy_the_schema():
    jsonschema.validate(default_values(), _schema())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"replicaCount": "two"}, "'two' is not of type 'integer'"),
        ({"secrets": {"webhookSecret": "short"}}, "'short' does not match '^$|^.{16,}$'"),
        ({"secrets": {"databaseUrl": "mysql://db/runner"}}, "'mysql://db/runner' does not match"),
        ({"pdb": {"minAvailable": 0}}, "0 is less than the minimum of 1"),
        ({"replicas": 2}, "Additional properties are not allowed ('replicas' was unexpected)"),
    ],
)
def test_the_schema_refuses_bad_values(overrides, message):
    with pytest.raises(jsonschema.ValidationError, match=re.escape(message)):
        jsonschema.validate(merged(overrides), _schema())


def test_an_existing_secret_replaces_the_charts_own():
    objects = template(merged({"existingSecret": "runner-credentials"}))
    assert "Secret" not in [o["kind"] for o in objects]


def test_one_replica_without_a_disruption_budget_for_a_runner_on_sqlite():
    objects = template(merged({"replicaCount": 1, "pdb": {"enabled": False}}))
    (deployment,) = [o for o in objects if o["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 1
    assert "PodDisruptionBudget" not in [o["kind"] for o in objects]


def test_the_image_tag_defaults_to_the_charts_app_version():
    (deployment,) = [o for o in template(default_values()) if o["kind"] == "Deployment"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/example/runner:0.1.0"
    (deployment,) = [o for o in template(merged({"image": {"tag": "0.2.0"}})) if o["kind"] == "Deployment"]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/example/runner:0.2.0"


def test_the_renderer_refuses_a_reference_to_a_missing_value():
    """So a typo in a template fails the chart tests instead of rendering an empty field."""
    with pytest.raises(TemplateError, match=re.escape("no value at .Values.replicaCont")):
        render("replicas: {{ .Values.replicaCont }}", {"Values": default_values()})


def test_the_renderer_trims_and_branches_as_go_templates_do():
    text = "a:\n  {{- if .Values.on }}\n  b: {{ .Values.name | quote }}\n  {{- else }}\n  c: 1\n  {{- end }}\n"
    assert render(text, {"Values": {"on": True, "name": 'x"y'}}) == 'a:\n  b: "x\\"y"\n'
    assert render(text, {"Values": {"on": "", "name": "x"}}) == "a:\n  c: 1\n"
