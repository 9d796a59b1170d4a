"""What changes between the PVE releases the twin can imitate (8.2, 8.3, 8.4, 9.x).

- JSON error bodies carry `message` only from pve-http-server 5.2.0 (commit 9a2112e, "fix #6503: return api
  handler errors in the json body", first shipped with PVE 8.4); before, the message is in the status line only.
- download-url accepts `content=import` from pve-storage 8.2.10 (commit 40df25d, OVA only, PVE 8.3) and
  `.qcow2`/`.raw`/`.vmdk` files for it from pve-storage 8.3.6 (commit 76f695f, PVE 8.4).
"""

from __future__ import annotations

import re


def release(version: str) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", version)
    if not match:
        raise ValueError(f"not a PVE version: {version!r}")
    return int(match.group(1)), int(match.group(2))


def error_message_in_body(version: str) -> bool:
    return release(version) >= (8, 4)


def download_content_types(version: str) -> list[str]:
    """The `content` enum of POST .../download-url."""
    return ["iso", "vztmpl", "import"] if release(version) >= (8, 3) else ["iso", "vztmpl"]


def import_extensions(version: str) -> str:
    """pve-storage's $UPLOAD_IMPORT_EXT_RE_1 (what an `import` download may be called)."""
    return r"\.(ova|qcow2|raw|vmdk)" if release(version) >= (8, 4) else r"\.(ova)"
