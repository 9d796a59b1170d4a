"""The cluster facts Flux's manifests read: the `cluster-settings` ConfigMap the runner writes into
flux-system at hand-off, consumed by the flux/ Kustomizations through `postBuild.substituteFrom`
(`${cluster_vip}`, `${cluster_interface}`, `${lb_range_start}`, `${acme_email}`, `${proxmox_storage}`,
...). One source of truth: cluster.yaml."""

from __future__ import annotations

from runner.core.spec import Cluster

CONFIGMAP = "cluster-settings"

# Where each variable `cluster_settings` writes comes from in cluster.yaml (named in `runner validate`'s fixes).
SETTING_SOURCES = {
    "platform_domain": "platform.domain",
    "backup_bucket": "platform.backups.bucket",
    "backup_region": "platform.backups.region",
    "backup_s3_url": "platform.backups.endpoint",
    "acme_email": "certificates.acmeEmail",
    "lb_range_start": "network.loadBalancers",
    "lb_range_stop": "network.loadBalancers",
    "proxmox_storage": "proxmox.storage",
}


def cluster_settings(cluster: Cluster) -> dict[str, str]:
    net = cluster.network
    settings = {
        "cluster_name": cluster.name,
        "cluster_vip": str(net.vip),
        "cluster_interface": net.interface,
        "cluster_cidr": str(net.cidr),
    }
    # Proxmox CSI's default StorageClass allocates its volumes on this storage (flux/infrastructure/storage).
    settings["proxmox_storage"] = cluster.proxmox.storage
    if net.load_balancers is not None:
        settings["lb_range_start"] = str(net.load_balancers.start)
        settings["lb_range_stop"] = str(net.load_balancers.stop)
    if cluster.certificates is not None:
        settings["acme_email"] = cluster.certificates.acme_email
    if cluster.platform is not None:
        settings["platform_domain"] = cluster.platform.domain
        if cluster.platform.backups is not None:
            backups = cluster.platform.backups
            settings["backup_bucket"] = backups.bucket
            settings["backup_region"] = backups.region
            settings["backup_s3_url"] = str(backups.endpoint).rstrip("/")
    return settings
