"""Translate lightkube/httpx2 failures into the runner's Transient/Permanent errors."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
from lightkube.core.exceptions import ApiError, ConfigError, LoadResourceError

from runner.core.errors import Permanent, Transient

# Status reasons that may clear by themselves (the object is being created, the server is busy).
_TRANSIENT_REASONS = {"ServerTimeout", "Timeout", "TooManyRequests", "ServiceUnavailable", "InternalError"}


def describe(e: ApiError) -> str:
    status = e.status
    return f"{status.code} {status.reason}: {status.message}"


@contextmanager
def translated(what: str) -> Iterator[None]:
    """`what` names the operation and object, e.g. "apply Secret flux-system/sops-age"."""
    try:
        yield
    except ApiError as e:
        code = e.status.code or 0
        if code >= 500 or code == 429 or e.status.reason in _TRANSIENT_REASONS:
            raise Transient(f"kubernetes: {what}: {describe(e)}") from None
        raise Permanent(f"kubernetes: {what}: {describe(e)}") from None
    except httpx2.HTTPStatusError as e:  # a non-Status error body (proxy, load balancer)
        code = e.response.status_code
        error = Transient if code >= 500 or code == 429 else Permanent
        raise error(f"kubernetes: {what}: HTTP {code}") from None
    except httpx2.ConnectError as e:
        if isinstance(e.__context__, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(e):
            raise Permanent(f"kubernetes: {what}: TLS verification of the API server failed: {e}") from None
        raise Transient(f"kubernetes: {what}: cannot connect: {e}") from None
    except httpx2.TransportError as e:  # timeouts, resets, protocol errors
        raise Transient(f"kubernetes: {what}: {type(e).__name__}: {e}") from None
    except (ConfigError, LoadResourceError) as e:
        raise Permanent(f"kubernetes: {what}: {e}") from None
