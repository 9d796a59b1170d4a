"""The talosctl side of etcd snapshots: download one to a file, upload one to `bootstrap --recover-from`.

Output and checks follow cmd/talosctl/cmd/talos/etcd.go and bootstrap.go at v1.11: the download goes to
`<path>.part`, must end in a sha256 (size % 512 == 32), is renamed into place, then size and info printed.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

from runner.lab.talos.client import CallFailed, call, resolve
from runner.lab.talos.flags import Parsed


def save(p: Parsed) -> None:
    v = p.values
    target = resolve(v)
    if len(target.nodes) > 1:
        raise CallFailed('command "etcd snapshot" is not supported with multiple nodes')
    db_path = Path(p.args[0])
    part = db_path.with_name(db_path.name + ".part")
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as e:
        raise CallFailed(f"error creating temporary file: open {part}: {(e.strerror or str(e)).lower()}") from e
    with os.fdopen(fd, "wb") as dest:
        try:
            data = base64.b64decode(call(target, "etcd_snapshot")[0]["data"])
        except CallFailed as e:
            part.unlink(missing_ok=True)
            raise CallFailed(f"error reading file: {e.text}") from e
        dest.write(data)
    if len(data) % 512 != 32:
        raise CallFailed(f"sha256 checksum not found (size {len(data)})")
    part.rename(db_path)
    print(f'etcd snapshot saved to "{db_path}" ({len(data)} bytes)')
    info = hashlib.sha256(data).hexdigest()[:8]
    print(f"snapshot info: hash {info}, revision 1, total keys 1, total size {len(data)}")


def recover_params(values: dict[str, Any]) -> dict[str, Any]:
    path = values["recover-from"]
    if not path:
        return {}
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise CallFailed(f"open {path}: {(e.strerror or str(e)).lower()}") from e
    return {
        "recover_data": base64.b64encode(data).decode(),
        "recover_skip_hash_check": values["recover-skip-hash-check"],
    }
