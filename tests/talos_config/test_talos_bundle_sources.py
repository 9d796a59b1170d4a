"""One bundle from talosctl's secrets.yaml, Terraform's talos_machine_secrets or a controlplane config.

Vectors (see data/README.md): Talos v1.13.9's config-stability bundle and the controlplane config its
generator made from it; terraform-provider-talos v0.11.0's import fixtures and the attribute values its
import test expects; the stability bundle in the provider's layout, written by its documented mapping.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from talos_testdata import read_data

from runner.core.errors import SecretsError
from runner.core.secret import secret_values
from runner.core.talos import SecretsBundle, bundle_fingerprint, bundle_from_yaml
from runner.core.talos.bundle_sources import bundle_from_source

STABILITY = "talos-v1.13-stability-secrets.yaml"
SAME_BUNDLE = [
    STABILITY,
    "talos-golden-v1.13-base-controlplane.yaml",
    "terraform-machine-secrets-stability.json",
    "terraform-output-stability.json",
    "terraform-state-stability.json",
    "terraform-show-stability.json",
]


def _secrets(bundle: SecretsBundle) -> list[str]:
    values = [bundle.cluster.id, bundle.cluster.secret, bundle.secrets.bootstrap_token, bundle.trustd_info.token]
    values += [bundle.secrets.secretbox_encryption_secret, bundle.certs.k8s_service_account]
    values += [getattr(bundle.certs, a).key for a in ("etcd", "k8s", "k8s_aggregator", "os")]
    return list(secret_values(values))


@pytest.mark.parametrize("name", SAME_BUNDLE)
def test_every_layout_gives_the_same_bundle(name: str) -> None:
    expected = bundle_from_yaml(read_data(STABILITY))
    bundle = bundle_from_source(read_data(name), name)
    assert bundle == expected
    assert bundle_fingerprint(bundle) == bundle_fingerprint(expected)
    assert bundle.secrets.bootstrap_token.reveal() == "inn7ol.u4ehnti8qyls9ymo"
    assert bundle.trustd_info.token.reveal() == "d8cwfa.eyvpi0xwxyarbfid"


@pytest.mark.parametrize(
    ("talosctl", "terraform", "aescbc"),
    [
        ("terraform-provider-testdata-secrets.yaml", "terraform-provider-import-machine-secrets.json", False),
        ("terraform-provider-testdata-secretsv1.2.yaml", "terraform-provider-import-machine-secrets-v1.2.json", True),
    ],
)
def test_terraform_provider_import_vectors_match(talosctl: str, terraform: str, aescbc: bool) -> None:
    imported = bundle_from_source(read_data(terraform), terraform)
    assert imported == bundle_from_source(read_data(talosctl), talosctl)
    assert (imported.secrets.aescbc_encryption_secret is not None) is aescbc
    assert (imported.secrets.secretbox_encryption_secret is None) is aescbc  # the provider writes "" for v1.2


def test_resource_attributes_hold_the_machine_secrets() -> None:
    raw = json.loads(read_data("terraform-machine-secrets-stability.json"))
    resource = {"id": "machine_secrets", "talos_version": "v1.13", "machine_secrets": raw}
    assert bundle_from_source(json.dumps(resource), "state.json") == bundle_from_yaml(read_data(STABILITY))


def _output(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(read_data("terraform-output-stability.json"))
    data.update(changes)
    return data


def test_worker_config_is_refused_with_its_line() -> None:
    text = read_data("talos-golden-v1.13-base-worker.yaml")
    with pytest.raises(SecretsError) as error:
        bundle_from_source(text, "worker.yaml")
    assert str(error.value) == (
        "worker.yaml: machine.type (line 5) is worker: only a controlplane's config carries the cluster's CAs and "
        "keys; give a controlplane machine config"
    )


def _stability_tf() -> dict[str, Any]:
    return json.loads(read_data("terraform-machine-secrets-stability.json"))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["secrets"].pop("bootstrap_token"),
            "secrets.bootstrap_token (line 6) is required",
        ),
        (
            lambda d: d["certs"]["k8s_aggregator"].update(cert="not base64!"),
            "certs.k8s_aggregator.cert (line 23) is not base64-encoded PEM; "
            "certs.k8s_aggregator (line 22) is invalid: failed to parse PEM block",
        ),
        (
            lambda d: d["certs"]["k8s"].update(key=d["certs"]["etcd"]["key"]),
            "certs.k8s (line 18) is invalid: key does not match the certificate",
        ),
        (
            lambda d: d["certs"].pop("k8s_serviceaccount"),
            "certs.k8s_serviceaccount (line 13) is required",
        ),
    ],
)
def test_bad_terraform_fields_are_named_with_their_line_and_no_value(change: Any, message: str) -> None:
    data = _stability_tf()
    change(data)
    with pytest.raises(SecretsError) as error:
        bundle_from_source(json.dumps(data, indent=2), "tf.json")
    assert str(error.value) == f"tf.json: {message}"
    assert not any(value in str(error.value) for value in _secrets(bundle_from_yaml(read_data(STABILITY))))


def test_bad_field_inside_terraform_output_names_the_output_path() -> None:
    data = _output()
    del data["machine_secrets"]["value"]["trustdinfo"]["token"]
    with pytest.raises(SecretsError) as error:
        bundle_from_source(json.dumps(data, indent=2), "out.json")
    assert str(error.value) == "out.json: machine_secrets.value.trustdinfo.token (line 79) is required"


def test_ambiguous_or_empty_terraform_output_is_refused() -> None:
    both = _output(copy=_output()["machine_secrets"])
    with pytest.raises(SecretsError, match=r"^out\.json: terraform output: outputs machine_secrets, copy each hold"):
        bundle_from_source(json.dumps(both), "out.json")
    none = {"endpoint": {"sensitive": False, "type": "string", "value": "https://10.0.0.1:6443"}}
    with pytest.raises(SecretsError, match=r"^out\.json: terraform output: no output holds a talos_machine_secrets"):
        bundle_from_source(json.dumps(none), "out.json")


def test_malformed_file_names_line_and_column_and_never_quotes_it() -> None:
    secret = "avDR6jwn4iYS6sTOH689P2UcNUlh3UsuO+FaOKI2hls="
    text = f'{{\n  "cluster": {{\n    "secret": "{secret}" "id"\n  }}\n}}\n'
    with pytest.raises(SecretsError) as error:
        bundle_from_source(text, "broken.json")
    assert str(error.value).startswith("broken.json: line 3, column ")
    assert secret not in str(error.value)
    duplicate = f"cluster:\n  secret: {secret}\n  secret: {secret}\n"
    with pytest.raises(SecretsError) as error:
        bundle_from_source(duplicate, "dup.yaml")
    assert str(error.value) == "dup.yaml: line 3, column 3: duplicate key"


def test_unknown_layout_is_named() -> None:
    with pytest.raises(SecretsError) as error:
        bundle_from_source("kind: Secret\ndata: {}\n", "other.yaml")
    assert str(error.value) == (
        "other.yaml: not a talosctl secrets.yaml, a Terraform talos_machine_secrets (its machine_secrets, "
        "`terraform output -json`, a state file or `terraform show -json`), or a controlplane machine config"
    )


def test_a_bad_field_in_a_state_file_is_named_by_its_path_and_line() -> None:
    data = json.loads(read_data("terraform-state-stability.json"))
    del data["resources"][1]["instances"][0]["attributes"]["machine_secrets"]["certs"]["os"]["key"]
    with pytest.raises(SecretsError) as error:
        bundle_from_source(json.dumps(data, indent=2), "terraform.tfstate")
    assert str(error.value) == (
        "terraform.tfstate: resources.1.instances.0.attributes.machine_secrets.certs.os (line 55) is invalid: "
        "failed to parse PEM block"
    )


def test_a_state_with_two_machine_secrets_or_none_is_refused() -> None:
    data = json.loads(read_data("terraform-state-stability.json"))
    data["resources"].append({**data["resources"][1], "module": "module.other"})
    with pytest.raises(SecretsError) as error:
        bundle_from_source(json.dumps(data), "terraform.tfstate")
    assert str(error.value) == (
        "terraform.tfstate: the Terraform state holds several (module.talos.talos_machine_secrets.this, "
        "module.other.talos_machine_secrets.this) talos_machine_secrets resource; give one resource's "
        "machine_secrets (e.g. `terraform output -json` of an output naming it)"
    )
    data["resources"] = data["resources"][:1]
    with pytest.raises(SecretsError, match=r"^terraform\.tfstate: the Terraform state holds no talos_machine_secrets"):
        bundle_from_source(json.dumps(data), "terraform.tfstate")
