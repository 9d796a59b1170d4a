"""A loopback TCP forwarder that only lets connections through while a condition holds.

The lab maps cluster addresses (a controller's 10.0.0.11:6443, the VIP's 10.0.0.20:6443) to gates in
front of the Kubernetes twin: a controller's API answers once that node runs and etcd is bootstrapped,
the VIP only once kube-vip holds it. Closed means the connection is dropped at once, as an unreachable
address would be, so the runner sees what it would see on a real network.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from collections.abc import Callable


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


class _Handler(socketserver.BaseRequestHandler):
    server: _GateServer

    def handle(self) -> None:
        client: socket.socket = self.request
        if not self.server.is_open():
            client.close()
            return
        try:
            upstream = socket.create_connection(self.server.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
        back.start()
        _pump(client, upstream)
        back.join(5)
        client.close()
        upstream.close()


class _GateServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, target: tuple[str, int], is_open: Callable[[], bool]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.target = target
        self.is_open = is_open


class Gate:
    def __init__(self, target: tuple[str, int], is_open: Callable[[], bool]) -> None:
        self._server = _GateServer(target, is_open)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"gate-{self.port}", daemon=True)
        self._thread.start()

    def is_open(self) -> bool:
        return bool(self._server.is_open())

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
