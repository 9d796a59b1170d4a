"""kube-vip reads the arguments of its own version: 1.x takes the VIP's mask from `vip_subnet` (`vip_cidr` is gone),
and without a mask it cannot add the address, so the VIP never answers."""

from __future__ import annotations

import pytest

from runner.core.secret import Secret
from runner.drivers.kube import LightkubeApi

from .conftest import SETTINGS, Lab

DAEMONSET = "flux/infrastructure/controllers/kube-vip/daemonset.yaml"


@pytest.mark.parametrize(
    ("image", "mask_arg", "answers"),
    [
        ("v1.2.3", "vip_subnet", True),
        ("v1.2.3", "vip_cidr", False),  # the 0.x name: ignored by 1.x, so no mask
        ("v0.8.7", "vip_cidr", True),
    ],
)
def test_the_vip_answers_only_with_the_mask_argument_of_the_image_version(
    lab: Lab, api: LightkubeApi, age_key: Secret, image: str, mask_arg: str, answers: bool
) -> None:
    text = lab.repo.read(DAEMONSET).decode().replace("v1.2.3", image).replace("name: vip_subnet", f"name: {mask_arg}")
    lab.repo.commit({DAEMONSET: text.encode()})
    lab.join_all_nodes()
    api.install_flux(lab.repo.url, "main", "flux/clusters/home", age_key, settings=SETTINGS)
    api.wait_ready("DaemonSet", "kube-vip-ds", namespace="kube-system", timeout=30)
    lab.twin.reconcile()
    assert lab.twin.state()["vip_address"] == ("10.0.0.20" if answers else None)
