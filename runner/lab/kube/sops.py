"""Decrypting SOPS-encrypted manifests the way kustomize-controller does: age identities from a Secret.

The data key is age-decrypted with pyrage, then each `ENC[AES256_GCM,...]` value is opened with
AES-GCM using the value's path (`key:subkey:`) as additional data, as the sops Go code does.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pyrage
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_ENC = re.compile(r"^ENC\[AES256_GCM,data:(.*),iv:(.*),tag:(.*),type:(str|int|float|bool|bytes|comment)\]$")


class DecryptionError(Exception):
    pass


def is_encrypted(doc: dict[str, Any]) -> bool:
    return isinstance(doc.get("sops"), dict)


def identities_from_secret(data: dict[str, str]) -> list[Any]:
    """Every `*.agekey` entry of the decryption Secret (base64 values, as stored)."""
    out = []
    for key, value in data.items():
        if not key.endswith(".agekey"):
            continue
        for line in base64.b64decode(value).decode().splitlines():
            if line.startswith("AGE-SECRET-KEY-"):
                try:
                    out.append(pyrage.x25519.Identity.from_str(line.strip()))
                except Exception as e:
                    raise DecryptionError(f"failed to parse age identity from '{key}': {e}") from None
    return out


def decrypt(doc: dict[str, Any], identities: list[Any]) -> dict[str, Any]:
    meta = doc["sops"]
    data_key = None
    for stanza in meta.get("age") or []:
        try:
            data_key = pyrage.decrypt(stanza["enc"].encode(), identities)
            break
        except Exception:
            continue
    if data_key is None:
        raise DecryptionError("failed to get the data key required to decrypt the SOPS file: no age identity matched")

    def walk(value: Any, path: list[str]) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, [*path, str(k)]) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, path) for v in value]
        if isinstance(value, str) and (m := _ENC.match(value)):
            raw, iv, tag = (base64.b64decode(x) for x in m.groups()[:3])
            aad = ("".join(f"{p}:" for p in path)).encode()
            try:
                plain = AESGCM(data_key).decrypt(iv, raw + tag, aad).decode()
            except Exception as e:
                raise DecryptionError(f"failed to decrypt value at {':'.join(path)}: {type(e).__name__}") from e
            kind = m.group(4)
            if kind == "int":
                return int(plain)
            if kind == "float":
                return float(plain)
            if kind == "bool":
                return plain == "True"
            return plain
        return value

    plain: dict[str, Any] = walk({k: v for k, v in doc.items() if k != "sops"}, [])
    return plain
