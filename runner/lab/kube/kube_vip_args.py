"""Whether kube-vip's arguments give the control-plane VIP a mask, by kube-vip version.

From 1.0 the mask is `vip_subnet` (v1.2.3 pkg/kubevip/config_envvar.go `vipSubnet`; `vip_cidr` no longer exists
there). `pkg/vip/address.go` AddIP formats `<ip>/<mask>` with pkg/utils/ip.go FormatIPWithSubnetMask, which fails
on an empty mask, so a 1.x pod given only `vip_cidr` never adds the address. Versions before 1.0 are not modelled:
their pods are taken to hold the VIP whatever mask argument they have.
"""

from __future__ import annotations


def kube_vip_has_mask(image: str, env: dict[str, str | None]) -> bool:
    major = image.rpartition(":")[2].removeprefix("v").split(".", 1)[0]
    return not (major.isdigit() and int(major) >= 1) or bool(env.get("vip_subnet"))
