"""A local HTTP endpoint that records what is POSTed to it: where a lab run's notifications arrive."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Sink:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)  # {"path", "headers", "body"} per POST

    def bodies(self) -> list[dict[str, Any]]:
        return [dict(r["body"]) for r in list(self.received)]


@contextmanager
def webhook_sink() -> Iterator[Sink]:
    sink = Sink("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", 0)))
            sink.received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(raw)})
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/flux"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
