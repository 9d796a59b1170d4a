"""The bundle reads and writes the `talosctl gen secrets` file format, with errors that name the field."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from ruamel.yaml import YAML
from talos_testdata import load_yaml, read_data

from runner.core.errors import SecretsError
from runner.core.secret import secret_values
from runner.core.talos import (
    SecretsBundle,
    bundle_fingerprint,
    bundle_from_dict,
    bundle_from_yaml,
    bundle_to_dict,
    bundle_to_yaml,
)
from runner.core.talos.pem import pem_decode

TALOS_FILE = "talos-testdata-secrets.yaml"
RSA_FILE = "secrets-v1.11-rsa-serviceaccount.yaml"
# Every field Talos's Bundle.Validate requires, as dotted paths in the file.
REQUIRED_FIELDS = [
    "cluster.id",
    "cluster.secret",
    "secrets.bootstraptoken",
    "trustdinfo.token",
    "certs.etcd",
    "certs.k8s",
    "certs.k8saggregator",
    "certs.k8sserviceaccount",
    "certs.os",
    "cluster",
    "secrets",
    "trustdinfo",
    "certs",
]


def _all_secret_strings(bundle: SecretsBundle) -> list[str]:
    values = [bundle.cluster.id, bundle.cluster.secret, bundle.secrets.bootstrap_token, bundle.trustd_info.token]
    values += [bundle.secrets.secretbox_encryption_secret, bundle.certs.k8s_service_account]
    values += [getattr(bundle.certs, a).key for a in ("etcd", "k8s", "k8s_aggregator", "os")]
    return list(secret_values(values))


def test_generate_to_yaml_from_yaml_round_trips(bundle):
    again = bundle_from_yaml(bundle_to_yaml(bundle))
    assert again == bundle
    assert bundle_fingerprint(again) == bundle_fingerprint(bundle)


def test_written_file_has_the_talosctl_layout(bundle):
    text = bundle_to_yaml(bundle)
    top_level = [line.split(":")[0] for line in text.splitlines() if not line.startswith(" ")]
    assert top_level == ["cluster", "secrets", "trustdinfo", "certs"]
    assert "\n    id: " in text and "\n    bootstraptoken: " in text and "\n        crt: " in text
    data = YAML(typ="safe", pure=True).load(text)
    assert list(data["certs"]) == ["etcd", "k8s", "k8saggregator", "k8sserviceaccount", "os"]
    assert list(data["secrets"]) == ["bootstraptoken", "secretboxencryptionsecret"]
    assert list(data["certs"]["k8sserviceaccount"]) == ["key"]
    # crt/key hold base64 of the whole PEM text, on one line.
    os_key = base64.b64decode(data["certs"]["os"]["key"]).decode()
    assert pem_decode(os_key)[0] == "ED25519 PRIVATE KEY"
    # Same number of lines as a real talosctl file: no value is wrapped.
    assert len(text.splitlines()) == len(read_data(TALOS_FILE).splitlines())


def test_real_talosctl_file_imports_and_writes_back_byte_for_byte():
    original = read_data(TALOS_FILE)
    bundle = bundle_from_yaml(original, source=TALOS_FILE)
    assert bundle.cluster.id.reveal() == "cgvhCbucls-WqkESDTRqykFgb4hROI4cBpgB0YJLLtM="
    assert bundle.secrets.bootstrap_token.reveal() == "2psnp2.lry8e9gycdix3bpa"
    assert bundle.trustd_info.token.reveal() == "oamejv.9tk1nhuwnlc2nghf"
    assert bundle.certs.os.key.reveal().startswith("-----BEGIN ED25519 PRIVATE KEY-----\n")
    assert bundle_to_yaml(bundle) == original


def test_v1_11_file_with_rsa_service_account_key_imports():
    bundle = bundle_from_yaml(read_data(RSA_FILE))
    assert pem_decode(bundle.certs.k8s_service_account.reveal())[0] == "RSA PRIVATE KEY"


def test_talos_invalid_testdata_reports_the_same_six_problems_as_talos():
    with pytest.raises(SecretsError) as error:
        bundle_from_yaml(read_data("talos-testdata-invalid-secrets.yaml"), source="invalid.yaml")
    assert str(error.value) == (
        "invalid.yaml: cluster.secret is required; "
        "one of [secrets.secretboxencryptionsecret, secrets.aescbcencryptionsecret] is required; "
        "trustdinfo is required; "
        "certs.etcd is invalid: failed to parse PEM block; "
        "certs.k8saggregator is required; "
        'certs.os is invalid: unsupported key type: "CERTIFICATE"'
    )


def _without(data: dict[str, Any], dotted: str) -> dict[str, Any]:
    *parents, last = dotted.split(".")
    target = data
    for part in parents:
        target = target[part]
    del target[last]
    return data


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
def test_missing_field_is_named_in_the_error(field):
    data = _without(load_yaml(TALOS_FILE), field)
    with pytest.raises(SecretsError, match=rf"secrets\.yaml: .*\b{field} is required"):
        bundle_from_dict(data, source="secrets.yaml")


def test_both_encryption_secrets_are_refused_like_talos():
    data = load_yaml(TALOS_FILE)
    data["secrets"]["aescbcencryptionsecret"] = data["secrets"]["secretboxencryptionsecret"]
    with pytest.raises(SecretsError, match=r"only one of \[secrets.secretboxencryptionsecret"):
        bundle_from_dict(data)


def test_aescbc_only_bundle_from_older_talos_is_accepted():
    data = load_yaml(TALOS_FILE)
    data["secrets"]["aescbcencryptionsecret"] = data["secrets"].pop("secretboxencryptionsecret")
    bundle = bundle_from_dict(data)
    assert bundle.secrets.secretbox_encryption_secret is None
    assert bundle_to_dict(bundle)["secrets"] == data["secrets"]


def test_key_that_does_not_match_its_certificate_is_refused():
    data = load_yaml(TALOS_FILE)
    data["certs"]["k8s"]["key"] = data["certs"]["etcd"]["key"]
    with pytest.raises(SecretsError, match=r"certs\.k8s is invalid: key does not match the certificate"):
        bundle_from_dict(data)


def test_bad_base64_and_bad_yaml_are_reported():
    data = load_yaml(TALOS_FILE)
    data["certs"]["os"]["crt"] = "not base64!"
    with pytest.raises(SecretsError, match=r"certs\.os\.crt is not base64-encoded PEM"):
        bundle_from_dict(data)
    with pytest.raises(SecretsError, match=r"s\.yaml: not valid YAML"):
        bundle_from_yaml("cluster: [unclosed", source="s.yaml")
    with pytest.raises(SecretsError, match="expected a mapping"):
        bundle_from_yaml("- just\n- a list\n")


def test_errors_never_contain_secret_values(bundle):
    data = bundle_to_dict(bundle)
    data["certs"]["k8s"]["key"] = data["certs"]["etcd"]["key"]
    del data["cluster"]["id"]
    with pytest.raises(SecretsError) as error:
        bundle_from_dict(data)
    for value in _all_secret_strings(bundle):
        assert value not in str(error.value)
        assert base64.b64encode(value.encode()).decode() not in str(error.value)


def test_fingerprint_changes_with_any_secret_and_only_then(bundle):
    data = bundle_to_dict(bundle)
    assert bundle_fingerprint(bundle_from_dict(data)) == bundle_fingerprint(bundle)
    data["trustdinfo"]["token"] = "aaaaaa.bbbbbbbbbbbbbbbb"
    assert bundle_fingerprint(bundle_from_dict(data)) != bundle_fingerprint(bundle)
    assert len(bundle_fingerprint(bundle)) == 64
