"""The maintenance service: the insecure API of a machine that has no config yet."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from runner.lab.talos import machineconfig, resources, rpc
from runner.lab.talos.lab import TalosLab
from runner.lab.talos.node import SimNode

if TYPE_CHECKING:
    from runner.lab.talos.api import Call


def apply(lab: TalosLab, node: SimNode, params: dict[str, Any]) -> dict[str, Any]:
    mode = params.get("mode", "auto")
    if mode not in ("auto", "reboot", "try"):
        raise rpc.RpcError("Unimplemented", f"apply configuration --mode='{mode}' is not supported in maintenance mode")
    try:
        config = machineconfig.load(params["data"], node.version)
    except machineconfig.ConfigDecodeError as e:
        raise rpc.RpcError("Unknown", f"failed to parse config: {e}") from e
    except machineconfig.ConfigInvalid as e:
        raise rpc.RpcError("InvalidArgument", f"configuration validation failed: {e}") from e
    if params.get("dry_run"):
        return {"mode_details": "Dry run summary:\nNode is running in maintenance mode and does not have a config yet."}
    if config.install_image and not lab.installer_available(config.install_image):
        return {"mode_details": ""}  # the config is accepted, the install cannot pull its image: stays here
    node.pending_version = machineconfig.image_version(config.install_image)
    node.pending_image = config.install_image or None
    node.start_install(config, lab.clock(), lab.delays)
    return {"mode_details": ""}


def call(lab: TalosLab, node: SimNode, call: Call) -> Any:
    if call.method == "apply":
        return apply(lab, node, call.params)
    if call.method == "get":
        rtype = resources.resolve_type(call.params["type"])
        if rtype == "MachineStatuses.runtime.talos.dev":
            return {"resources": [{"node": node.ip, **r} for r in resources.list_resources(lab, node, rtype)]}
    # Everything else needs os:admin, which an insecure client never has.
    raise rpc.unimplemented_in_maintenance()
