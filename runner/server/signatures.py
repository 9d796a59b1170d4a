"""Webhook authentication: which bytes each sender signs, HMAC-SHA256 compared in constant time, a capped read.

Each source puts the signature in its own header: GitHub `X-Hub-Signature-256: sha256=<hex>`,
Gitea/Forgejo `X-Gitea-Signature` / `X-Forgejo-Signature: <hex>` (Gitea also sends the GitHub
header), the generic hook `X-Runner-Signature: sha256=<hex>`.

What is signed differs, and a delivery is checked over exactly those bytes:
- GitHub signs the request body as sent, for JSON and for form deliveries (`payload=<urlencoded JSON>`).
- Gitea/Forgejo sign the JSON payload itself, also when it is sent form-encoded
  (`services/webhook/deliver.go`: the signature is computed over `PayloadContent`, not the form).
- The generic hook signs `<X-Runner-Timestamp>.<body>`, and a timestamp outside the replay window is
  refused, so a captured delivery cannot be sent again later.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Literal
from urllib.parse import unquote_to_bytes

from starlette.requests import Request

from runner.core.secret import Secret
from runner.server.payloads import BadPayload

Source = Literal["github", "gitea", "generic"]
FORM = "application/x-www-form-urlencoded"
TIMESTAMP_HEADER = "x-runner-timestamp"

SIGNATURE_HEADERS: dict[Source, tuple[tuple[str, str], ...]] = {
    # (header, prefix) in order of preference
    "github": (("x-hub-signature-256", "sha256="),),
    "gitea": (("x-forgejo-signature", ""), ("x-gitea-signature", ""), ("x-hub-signature-256", "sha256=")),
    "generic": (("x-runner-signature", "sha256="),),
}


class BodyTooLarge(Exception):
    pass


class Refused(Exception):
    """Authentication failed; `reason` is a metric label, the message is safe to send back."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def sign(secret: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `body`: what a sender puts in the signature header."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_generic(secret: str, timestamp: int, body: bytes) -> str:
    """What a generic-hook sender puts in X-Runner-Signature (after `sha256=`) with X-Runner-Timestamp."""
    return sign(secret, str(timestamp).encode() + b"." + body)


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


def form_payload(body: bytes) -> bytes:
    """The bytes of the one `payload` field of a form body, decoded exactly as the sender encoded them."""
    found: list[bytes] = []
    for pair in body.split(b"&"):
        name, sep, value = pair.partition(b"=")
        if unquote_to_bytes(name.replace(b"+", b" ")) == b"payload" and sep:
            found.append(unquote_to_bytes(value.replace(b"+", b" ")))
    if len(found) != 1:
        raise BadPayload(f"a form delivery needs exactly one 'payload' field, found {len(found)}")
    return found[0]


def _is_form(headers: Mapping[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == FORM


def payload_of(source: Source, headers: Mapping[str, str], body: bytes) -> bytes:
    """The JSON payload of a delivery: the body, or its `payload` field when it is form-encoded."""
    return form_payload(body) if _is_form(headers) and source != "generic" else body


def signed_bytes(source: Source, headers: Mapping[str, str], body: bytes) -> bytes:
    """Exactly the bytes this source signed."""
    if source == "gitea":
        return payload_of(source, headers, body)  # Gitea signs the JSON, also inside a form
    if source == "generic":
        return _timestamped(headers) + b"." + body
    return body  # GitHub signs the body as sent, form or JSON


def _timestamped(headers: Mapping[str, str]) -> bytes:
    stamp = headers.get(TIMESTAMP_HEADER, "").strip()
    if not stamp.isdigit() or len(stamp) > 12:
        raise Refused("missing_timestamp", "missing or malformed X-Runner-Timestamp (unix seconds)")
    return stamp.encode()


def check_fresh(headers: Mapping[str, str], window: float, now: float | None = None) -> None:
    """Refuse a generic delivery whose (signed) timestamp is outside the replay window."""
    age = (time.time() if now is None else now) - int(_timestamped(headers))
    if abs(age) > window:
        raise Refused("stale", f"X-Runner-Timestamp is {age:.0f}s off; the replay window is {window:.0f}s")


def authenticate(source: Source, headers: Mapping[str, str], body: bytes, secret: Secret, window: float) -> bytes:
    """The JSON payload of an authentic delivery; Refused (401) or BadPayload (400) otherwise."""
    signature = signature_of(source, headers)
    if signature is None:
        raise Refused("missing_signature", "missing signature")
    if not verify(secret, signed_bytes(source, headers, body), signature):
        raise Refused("bad_signature", "invalid signature")
    if source == "generic":
        check_fresh(headers, window)  # after the signature: the timestamp is trusted only once it is signed
    return payload_of(source, headers, body)


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
