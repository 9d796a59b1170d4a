"""Webhook authentication: HMAC-SHA256 over the raw body, compared in constant time, and a capped body read.

Each source puts the signature in its own header: GitHub `X-Hub-Signature-256: sha256=<hex>`,
Gitea/Forgejo `X-Gitea-Signature` / `X-Forgejo-Signature: <hex>` (Gitea also sends the GitHub
header), the generic hook `X-Runner-Signature: sha256=<hex>`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Literal

from starlette.requests import Request

from runner.core.secret import Secret

Source = Literal["github", "gitea", "generic"]

SIGNATURE_HEADERS: dict[Source, tuple[tuple[str, str], ...]] = {
    # (header, prefix) in order of preference
    "github": (("x-hub-signature-256", "sha256="),),
    "gitea": (("x-forgejo-signature", ""), ("x-gitea-signature", ""), ("x-hub-signature-256", "sha256=")),
    "generic": (("x-runner-signature", "sha256="),),
}


class BodyTooLarge(Exception):
    pass


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `body`: what a sender puts in the signature header."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_of(source: Source, headers: Mapping[str, str]) -> str | None:
    """The hex signature the request carries, or None when it has no (well-formed) signature header."""
    for header, prefix in SIGNATURE_HEADERS[source]:
        value = headers.get(header)
        if value:
            return value[len(prefix) :] if value.startswith(prefix) else None
    return None


def verify(secret: Secret, body: bytes, signature: str) -> bool:
    expected = sign(secret.reveal(), body)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


async def read_capped(request: Request, limit: int) -> bytes:
    """The whole body, or BodyTooLarge as soon as it passes `limit` (never buffers more than that)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
