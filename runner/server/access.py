"""Who may read the UI, the JSON API and /openapi.json: anyone on loopback, a token holder elsewhere.

With `api_token` set (required when the server listens beyond loopback) every request needs
`Authorization: Bearer <api_token>` or basic auth `<api_user>:<api_token>` (what a browser prompts for).
Always open: /healthz and /readyz (probes learn nothing but "up"/"ready"), /metrics when `metrics_open`,
and /hooks/* (each delivery is authenticated by its HMAC signature instead).
"""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from runner.core.secret import Secret

PROBES = ("/healthz", "/readyz")
CHALLENGE = 'Basic realm="runner", charset="UTF-8"'


def authorized(header: str, user: str, token: Secret) -> bool:
    scheme, _, value = header.partition(" ")
    expected = token.reveal().encode()
    if scheme.lower() == "bearer":
        return hmac.compare_digest(value.strip().encode(), expected)
    if scheme.lower() == "basic":
        try:
            name, _, password = base64.b64decode(value.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        # Both compared, always: the time taken says nothing about which one was wrong.
        return hmac.compare_digest(name, user.encode()) & hmac.compare_digest(password, expected)
    return False


class RequireToken:
    """ASGI middleware (plain ASGI, so streamed and long-lived responses pass through untouched)."""

    def __init__(self, app: ASGIApp, *, token: Secret, user: str, metrics_open: bool) -> None:
        self.app, self.token, self.user = app, token, user
        self.open = PROBES + (("/metrics",) if metrics_open else ())

    def _is_open(self, path: str) -> bool:
        return path in self.open or path.startswith("/hooks/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_open(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        if authorized(header, self.user, self.token):
            await self.app(scope, receive, send)
            return
        body = b'{"detail":"authentication required: Authorization: Bearer <api_token> or basic auth"}'
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", CHALLENGE.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
