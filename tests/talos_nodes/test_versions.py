"""A node twin decodes a config as the Talos version it runs: the kinds that release registers, the keys its
schema (or an older one, for fields it hid) knows, and v1.12's rules for the multi-document network configs."""

from __future__ import annotations

import re

import pytest

from runner.core.errors import Permanent
from runner.core.secret import Secret
from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin, machineconfig
from tests.talos_nodes.conftest import INSTALLER, Bundle, boot_to_maintenance, wait_until

HOSTNAME_DOC = "---\napiVersion: v1alpha1\nkind: HostnameConfig\nhostname: w\n"
LINK_DOC = (
    "---\napiVersion: v1alpha1\nkind: LinkConfig\nname: eth0\naddresses:\n    - address: 10.0.0.21/16\n"
    "routes:\n    - gateway: 10.0.0.1\n"
)
RESOLVER_DOC = "---\napiVersion: v1alpha1\nkind: ResolverConfig\nnameservers:\n    - address: 1.1.1.1\n"


def multidoc(bundle: Bundle, *documents: str, installer: str = INSTALLER) -> str:
    """A worker config in v1.12's shape: no `machine.network`, the network as documents of its own."""
    legacy = bundle.config("worker", "w", installer=installer)
    assert "    network:\n        hostname: w\n" in legacy
    return legacy.replace("    network:\n        hostname: w\n", "") + "".join(documents)


@pytest.mark.parametrize("version", ["v1.12.11", "v1.13.9"])
def test_a_node_from_v1_12_reads_hostname_and_links_from_their_documents(bundle: Bundle, version: str) -> None:
    config = machineconfig.load(multidoc(bundle, HOSTNAME_DOC, LINK_DOC, RESOLVER_DOC), version)
    assert config.hostname == "w"
    assert config.interfaces == (("eth0", ("10.0.0.21",)),)


def test_a_v1_11_node_knows_no_network_documents(bundle: Bundle) -> None:
    with pytest.raises(machineconfig.ConfigDecodeError, match=re.escape('"HostnameConfig" "v1alpha1": not registered')):
        machineconfig.load(multidoc(bundle, HOSTNAME_DOC), "v1.11.6")


def test_only_v1_13_knows_the_documents_v1_13_added(bundle: Bundle) -> None:
    kubespan = "---\napiVersion: v1alpha1\nkind: KubeSpanConfig\nenabled: false\n"
    machineconfig.load(multidoc(bundle, HOSTNAME_DOC, kubespan), "v1.13.9")
    with pytest.raises(machineconfig.ConfigDecodeError, match=re.escape('"KubeSpanConfig" "v1alpha1": not registered')):
        machineconfig.load(multidoc(bundle, HOSTNAME_DOC, kubespan), "v1.12.11")


@pytest.mark.parametrize("version", ["v1.12.11", "v1.13.9"])
def test_fields_talos_hid_but_still_decodes_are_accepted_and_a_typo_is_not(bundle: Bundle, version: str) -> None:
    """`machine.network` and `features.rbac` left the schema (docgen:nodoc) but not Talos's decoder."""
    legacy = bundle.config("worker", "w").replace("    install:", "    features:\n        rbac: true\n    install:")
    assert machineconfig.load(legacy, version).hostname == "w"
    with pytest.raises(machineconfig.ConfigDecodeError, match="unknown keys found during decoding"):
        machineconfig.load(legacy.replace("hostname: w", "hostnme: w"), version)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # HostnameConfig with the legacy fields that choose the hostname too (V1Alpha1ConflictValidate).
        (lambda b: bundle_legacy(b) + HOSTNAME_DOC, "static hostname is already set in v1alpha1 config"),
        (
            lambda b: multidoc(b, HOSTNAME_DOC).replace(
                "    install:", "    features:\n        stableHostname: true\n    install:"
            ),
            "stable hostname is already set in v1alpha1 config",
        ),
        (
            lambda b: bundle_legacy(b).replace("hostname: w", "nameservers: [8.8.8.8]") + RESOLVER_DOC,
            ".machine.network.nameservers is already set in v1alpha1 config",
        ),
        (
            lambda b: multidoc(b, "---\napiVersion: v1alpha1\nkind: HostnameConfig\nauto: stable\nhostname: w\n"),
            "HostnameConfig: 'auto' and 'hostname' cannot be set at the same time",
        ),
        (
            lambda b: multidoc(
                b, HOSTNAME_DOC, LINK_DOC.replace("- gateway:", "- destination: 0.0.0.0/0\n      gateway:")
            ),
            "LinkConfig/eth0: route 0 destination must be a valid IP prefix",
        ),
    ],
    ids=["static-hostname", "stable-hostname", "nameservers", "auto-and-hostname", "default-route-destination"],
)
def test_v1_12_refuses_what_its_validation_refuses(bundle: Bundle, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(machineconfig.ConfigInvalid, match=re.escape(message)):
        machineconfig.load(edit(bundle), "v1.12.11")


def bundle_legacy(bundle: Bundle) -> str:
    return bundle.config("worker", "w")


def test_a_version_the_lab_does_not_imitate_is_refused(bundle: Bundle) -> None:
    with pytest.raises(
        machineconfig.ConfigDecodeError, match=re.escape("the lab imitates Talos v1.11, v1.12, v1.13, not v1.10.7")
    ):
        machineconfig.load(bundle.config("worker", "w"), "v1.10.7")


def test_through_talosctl_a_v1_11_node_in_maintenance_refuses_a_v1_12_config(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    twin.register("10.0.0.21", "w", "v1.11.6")
    boot_to_maintenance(twin, "10.0.0.21", "w")
    with pytest.raises(
        Permanent, match=re.escape('failed to parse config: "HostnameConfig" "v1alpha1": not registered')
    ):
        driver.apply_config("10.0.0.21", Secret(multidoc(bundle, HOSTNAME_DOC, LINK_DOC)), insecure=True)
    assert twin.lab.nodes["10.0.0.21"].config is None


def test_through_talosctl_a_v1_12_node_installs_from_a_v1_12_config(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle
) -> None:
    twin.register("10.0.0.21", "w", "v1.12.11")
    boot_to_maintenance(twin, "10.0.0.21", "w")
    installer = INSTALLER.replace(":v1.11.2", ":v1.12.11")
    config = multidoc(bundle, HOSTNAME_DOC, LINK_DOC, RESOLVER_DOC, installer=installer)
    driver.apply_config("10.0.0.21", Secret(config), insecure=True)
    wait_until(lambda: twin.phase("10.0.0.21") == "running", "the node to run")
    assert driver.version("10.0.0.21") == "v1.12.11"
    assert twin.lab.nodes["10.0.0.21"].config.interfaces == (("eth0", ("10.0.0.21",)),)  # type: ignore[union-attr]


def test_from_v1_12_the_v1alpha1_errors_are_prefixed_with_the_document(bundle: Bundle) -> None:
    broken = bundle.config("worker", "w").replace("type: worker", "type: cook")
    with pytest.raises(machineconfig.ConfigInvalid) as v1_11:
        machineconfig.load(broken, "v1.11.6")
    with pytest.raises(machineconfig.ConfigInvalid) as v1_12:
        machineconfig.load(broken, "v1.12.11")
    assert str(v1_11.value) == '1 error occurred:\n\t* unknown machine type "cook"\n\n'
    assert str(v1_12.value) == (
        '1 error occurred:\n\t* v1alpha1.Config: 1 error occurred:\n\t* unknown machine type "cook"\n\n\n\n'
    )
