"""The manifests for a management cluster, checked offline: the kustomize directory (deploy/kubernetes) and the
Helm chart (deploy/helm/runner, rendered here with its default values, and with an existing Secret).

Every object is validated against the Kubernetes OpenAPI schemas (kubernetes-validate, strict) of each
release the runner supports; the Deployment is checked against the restricted Pod Security Standard with the
Kubernetes twin's admission rules, and the settings the pod would start with are loaded by the runner itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from runner.engine.service.settings import Settings, load_settings
from runner.lab.kube.pod_security import violations
from tests.deploy.chart import merged, template
from tests.deploy.dockerfile import stages
from tests.deploy.kustomize import build

from ..doctor.conftest import REPO_ROOT

MANIFESTS = REPO_ROOT / "deploy" / "kubernetes"
# the Kubernetes minors the runner's clusters run (kubernetes-validate ships their published schemas)
KUBERNETES = ["1.33", "1.34", "1.35", "1.36"]
# Secret `runner`: the keys the README's "Run it for real" tells the operator to create
SECRET_KEYS = {"age-key", "webhook-secret", "api-token", "forge-token", "git-token", "database-url"}


# what an operator would pass to `helm install --set ...` for the chart to make the Secret itself
CHART_SECRETS = {
    "secrets": {
        "databaseUrl": "postgresql://runner:password@postgres:5432/runner",
        "ageKey": "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
        "webhookSecret": "0123456789abcdef0123",
        "apiToken": "0123456789abcdef0123",
        "forgeToken": "ghp_0123456789",
    }
}
SOURCES = {
    # name: (objects, the Secret the pod reads, kinds besides the common ones)
    "kustomize": (lambda: build(MANIFESTS), "runner", ["Namespace"]),
    "chart": (lambda: template(merged(CHART_SECRETS)), "runner", ["Secret"]),
    "chart-existing-secret": (
        lambda: template(merged({"existingSecret": "runner-credentials"})),
        "runner-credentials",
        [],
    ),
}


@pytest.fixture(scope="module", params=sorted(SOURCES))
def source(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def objects(source: str) -> list[dict[str, Any]]:
    return SOURCES[source][0]()


def _one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind]
    return found


def _container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = _one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    return container


@pytest.mark.parametrize("version", KUBERNETES)
def test_every_object_validates_against_the_kubernetes_schemas(objects, source, version):
    common = ["ConfigMap", "Deployment", "PersistentVolumeClaim", "PodDisruptionBudget", "Service", "ServiceAccount"]
    assert sorted(o["kind"] for o in objects) == sorted(common + SOURCES[source][2])
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


def test_a_mistyped_field_is_caught_by_the_validation(objects):
    """The validation is strict: an unknown field fails (so the test above can fail)."""
    broken = _one(objects, "Deployment")
    broken = {**broken, "spec": {**broken["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES[-1], strict=True)


def test_two_replicas_a_disruption_budget_and_a_service_select_the_same_pods(objects):
    deployment = _one(objects, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    pdb = _one(objects, "PodDisruptionBudget")
    assert pdb["spec"] == {"minAvailable": 1, "selector": {"matchLabels": labels}}
    assert _one(objects, "Service")["spec"]["selector"] == labels


def test_probes_ask_healthz_and_readyz_on_the_port_the_runner_listens_on(objects):
    container = _container(objects)
    env = {e["name"]: e.get("value") for e in container["env"]}
    (port,) = container["ports"]
    assert port == {"name": "http", "containerPort": int(env["RUNNER_PORT"])}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_secrets_come_from_one_secret_with_the_documented_keys(objects, source):
    container = _container(objects)
    refs = [e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e]
    volumes = _one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"]
    secret_volumes = [v["secret"] for v in volumes if "secret" in v]
    assert {r["name"] for r in refs} | {v["secretName"] for v in secret_volumes} == {SOURCES[source][1]}
    keys = {r["key"] for r in refs} | {i["key"] for v in secret_volumes for i in v["items"]}
    assert keys == SECRET_KEYS
    readme = (REPO_ROOT / "README.md").read_text().split("## Run it for real", 1)[1].split("\n## ", 1)[0]
    assert all(f"`{key}`" in readme for key in SECRET_KEYS), [k for k in SECRET_KEYS if f"`{k}`" not in readme]


def test_the_pod_meets_the_restricted_pod_security_standard_and_runs_as_the_images_user(objects):
    spec = _one(objects, "Deployment")["spec"]["template"]["spec"]
    assert violations("restricted", spec) == []
    for namespace in [o for o in objects if o["kind"] == "Namespace"]:
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    _, image_stages = stages(REPO_ROOT / "deploy" / "image" / "Dockerfile")
    uid, gid = image_stages[-1].values("USER")[-1].split(":")
    assert (spec["securityContext"]["runAsUser"], spec["securityContext"]["runAsGroup"]) == (int(uid), int(gid))
    assert spec["automountServiceAccountToken"] is False


# what an operator's Secret holds where a placeholder would not be a valid value
SECRET_SAMPLES = {"database-url": "postgresql://runner@postgres.runner.svc:5432/runner"}


def _env_with_secrets(container: dict[str, Any], config: Path) -> dict[str, str]:
    env = {}
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
        elif not item["valueFrom"]["secretKeyRef"].get("optional"):
            key = item["valueFrom"]["secretKeyRef"]["key"]
            env[item["name"]] = SECRET_SAMPLES.get(key, f"{key}-0123456789abcdef")
    env["RUNNER_CONFIG"] = str(config)
    return env


def test_the_runner_accepts_the_settings_the_pod_starts_with(objects, tmp_path, monkeypatch):
    container = _container(objects)
    config = tmp_path / "runner.toml"
    config.write_text(_one(objects, "ConfigMap")["data"]["runner.toml"])
    env = _env_with_secrets(container, config)
    fields = {f"RUNNER_{name.upper()}" for name in Settings.model_fields} | {"RUNNER_CONFIG"}
    assert set(env) - fields == set()  # every variable the pod gets is a setting the runner reads
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert (settings.host, settings.port, settings.forge_kind) == ("0.0.0.0", 8080, "github")
    # the age key file is where the Secret's item is mounted
    mount = next(m for m in container["volumeMounts"] if m["name"] == "age-key")
    assert str(settings.age_key_file) == mount["mountPath"] + "/keys.txt"


def test_everything_the_runner_writes_is_on_a_volume_under_a_read_only_root(objects):
    container = _container(objects)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    env = {e["name"]: e.get("value") for e in container["env"]}
    written = [Path(env["RUNNER_DB_PATH"]).parent, Path(env["RUNNER_CACHE_DIR"]), Path(env["RUNNER_BACKUP_DIR"])]
    mounts = [Path(m["mountPath"]) for m in container["volumeMounts"] if not m.get("readOnly")]
    assert all(any(path == m or m in path.parents for m in mounts) for path in [*written, Path("/tmp")])
    backups = next(m for m in container["volumeMounts"] if m["mountPath"] == env["RUNNER_BACKUP_DIR"])
    volume = next(
        v for v in _one(objects, "Deployment")["spec"]["template"]["spec"]["volumes"] if v["name"] == backups["name"]
    )
    assert volume["persistentVolumeClaim"]["claimName"] == _one(objects, "PersistentVolumeClaim")["metadata"]["name"]


def test_the_charts_secret_holds_what_the_pod_reads():
    secret = _one(template(merged(CHART_SECRETS)), "Secret")
    assert set(secret["stringData"]) == SECRET_KEYS
    assert secret["stringData"]["database-url"] == CHART_SECRETS["secrets"]["databaseUrl"]
