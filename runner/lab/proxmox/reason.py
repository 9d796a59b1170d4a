"""PVE's HTTP status line: pveproxy puts the error message there (`HTTP/1.1 403 Permission check failed (...)`).

uvicorn always writes the standard reason phrase, so the twin's replies carry the wanted phrase in a private
header that this h11 protocol moves into the status line (and drops) as the response goes out. Clients see
what they see from pveproxy: proxmoxer, for one, reports the reason phrase as the error message.
"""

from __future__ import annotations

from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

REASON_HEADER = "x-pve-status-reason"
_RAW = REASON_HEADER.encode()


def status_reason(message: str) -> str:
    """AnyEvent.pm `response`: the first line of the message, ASCII only (it is an HTTP header line)."""
    first = message.split("\n", 1)[0].strip()
    return first.encode("latin-1", "replace").decode("latin-1")


class ReasonPhraseH11Protocol(H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        send = self.conn.send

        def send_with_reason(event: Any) -> bytes | None:
            if isinstance(event, h11.Response):
                reason = [value for name, value in event.headers if name.lower() == _RAW]
                if reason:
                    headers = [(name, value) for name, value in event.headers if name.lower() != _RAW]
                    event = h11.Response(status_code=event.status_code, headers=headers, reason=reason[0])
            return send(event)  # type: ignore[no-any-return]

        self.conn.send = send_with_reason  # type: ignore[method-assign,assignment]
