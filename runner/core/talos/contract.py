"""What a machine config may hold for one Talos minor: Talos's own version contract, as data.

Talos's generator (`talosctl gen config --talos-version`) decides per target minor which fields and documents
to write (pkg/machinery/config/contract.go@v1.13.9, used by generate/init.go and worker.go). The runner writes
configs for the minor a node runs, so it asks the same questions. The golden outputs upstream checks them
with are pkg/machinery/config/types/v1alpha1/testdata/stability/v1.1x/*.yaml@v1.13.9.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Talos minors the runner can write configs for (each has its schema in runner/vendored/talos/v1.<minor>/):
# every minor upstream maintains (v1.12, v1.13 at v1.13.9) plus the one before, so a cluster can leave it.
SUPPORTED_TALOS_MINORS: tuple[tuple[int, int], ...] = ((1, 11), (1, 12), (1, 13))

_MINOR = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?")


def talos_minor(version: str) -> tuple[int, int] | None:
    """(major, minor) of a version like v1.12.3, or None when it does not look like one."""
    match = _MINOR.match(version)
    return (int(match[1]), int(match[2])) if match else None


def supported_text() -> str:
    return ", ".join(f"v{a}.{b}.x" for a, b in SUPPORTED_TALOS_MINORS)


@dataclass(frozen=True)
class VersionContract:
    """The questions contract.go answers, for the minors the runner supports."""

    major: int
    minor: int

    @classmethod
    def of(cls, version: str) -> VersionContract:
        minor = talos_minor(version)
        if minor not in SUPPORTED_TALOS_MINORS:
            raise ValueError(f"Talos {version} is not supported (supported: {supported_text()})")
        assert minor is not None
        return cls(*minor)

    def _after(self, minor: int) -> bool:  # contract.Greater(TalosVersion1_<minor>)
        return (self.major, self.minor) > (1, minor)

    @property
    def schema_dir(self) -> str:
        return f"v{self.major}.{self.minor}"

    @property
    def multidoc_network(self) -> bool:
        """MultidocNetworkConfigSupported: hostname, links and resolvers are their own documents; the
        `machine.network` fields are deprecated ("Network Configuration", hack/release.toml@v1.12.0)."""
        return self._after(11)

    @property
    def hide_rbac_and_key_usage(self) -> bool:
        """HideRBACAndKeyUsage: `features.rbac` and `apidCheckExtKeyUsage` are locked to true and left out
        ("Feature Lock", hack/release.toml@v1.12.0)."""
        return self._after(11)

    @property
    def hide_disable_psp(self) -> bool:
        """HideDisablePSP: `apiServer.disablePodSecurityPolicy` is locked to true and left out."""
        return self._after(11)

    @property
    def stable_hostname_feature(self) -> bool:
        """`features.stableHostname` only while the network is not multi-document (init.go: StableHostnameEnabled
        && !MultidocNetworkConfigSupported); from v1.12 HostnameConfig says how the hostname is chosen."""
        return not self.multidoc_network

    @property
    def populate_cluster_sans_from_endpoint(self) -> bool:
        """PopulateClusterSANsFromEndpoint: up to v1.11 the API server's certSANs start with the endpoint's host;
        later Talos adds it at run time (generate.go GetAPIServerSANs)."""
        return not self._after(11)

    @property
    def grub_use_uki_cmdline(self) -> bool:
        """GrubUseUKICmdlineDefault: new installs take the kernel command line from the boot assets ("GRUB",
        hack/release.toml@v1.12.0). The runner's VMs boot OVMF (systemd-boot), where it changes nothing."""
        return self._after(11)
