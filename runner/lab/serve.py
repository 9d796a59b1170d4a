"""Serve an ASGI app on loopback in a background thread: how every twin (and tests) run a server."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class RunningServer:
    url: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


class Served:
    """What a twin served by `serve_in_thread` answers for: its URL, and stopping stops its server."""

    server: RunningServer

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()


def serve_in_thread(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    startup_timeout: float = 10.0,
    http: Any = "auto",
) -> RunningServer:
    """Start uvicorn for `app` in a daemon thread and return once it accepts connections."""
    port = port or free_port(host)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
        timeout_graceful_shutdown=2,
        http=http,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"serve-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"server on port {port} failed to start")
        if time.monotonic() > deadline:
            raise RuntimeError(f"server on port {port} did not start within {startup_timeout}s")
        time.sleep(0.01)
    scheme = "https" if certfile else "http"
    return RunningServer(url=f"{scheme}://{host}:{port}", port=port, server=server, thread=thread)
