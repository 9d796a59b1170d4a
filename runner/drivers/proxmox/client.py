"""The transport boundary: proxmoxer over HTTPS with an API token, error translation, task waiting.

No retries here (the engine retries `Transient`); every call is bounded by the HTTP timeout and every task
wait by `task_timeout`.
"""

from __future__ import annotations

import threading
import time
from typing import Any, TypedDict
from urllib.parse import urlsplit

import requests
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from runner.core.errors import Permanent, Transient
from runner.core.secret import Secret
from runner.drivers.proxmox.errors import translate
from runner.drivers.proxmox.privileges import likely_need

TASK_LOG_TAIL = 10


class ClientOptions(TypedDict, total=False):
    """The keyword options of `ProxmoxClient` (defaults there), for those that pass them on."""

    ca_bundle: str | None
    verify_tls: bool
    timeout: float
    poll_interval: float
    task_timeout: float


class ProxmoxClient:
    def __init__(
        self,
        url: str,
        token_id: str,
        token_secret: Secret,
        *,
        ca_bundle: str | None = None,
        verify_tls: bool = True,
        timeout: float = 10.0,
        poll_interval: float = 1.0,
        task_timeout: float = 900.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise Permanent(f"proxmox.url: {url!r} must be an https:// URL (the PVE API only speaks HTTPS)")
        user, sep, token_name = token_id.partition("!")
        if not sep or "@" not in user or not token_name:
            raise Permanent(f"proxmox token id {token_id!r} must look like user@realm!tokenid")
        self.url = url
        self.token_id = token_id
        self.poll_interval = poll_interval
        self.task_timeout = task_timeout
        self._last_response = threading.local()
        self._api = ProxmoxAPI(
            parts.hostname,
            port=parts.port or 8006,
            user=user,
            token_name=token_name,
            token_value=token_secret.reveal(),
            verify_ssl=ca_bundle if (ca_bundle and verify_tls) else verify_tls,
            timeout=timeout,
            backend="https",
        )
        self._api._store["session"].hooks["response"].append(self._remember_response)

    def __repr__(self) -> str:
        return f"ProxmoxClient(token_id={self.token_id!r}, secret=***)"

    def close(self) -> None:
        """Drop pooled keep-alive connections."""
        self._api._store["session"].close()

    def _remember_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last_response.text = response.text if response.status_code >= 400 else None

    def call(self, method: str, path: str, /, **params: Any) -> Any:
        """One API call; `path` is relative to /api2/json, e.g. 'nodes/atlas/qemu'."""
        what = f"{method} /{path}"
        self._last_response.text = None
        try:
            resource = self._api(path)
            return getattr(resource, method.lower())(**params)
        except (ResourceException, requests.RequestException) as exc:
            body = getattr(self._last_response, "text", None)
            raise translate(exc, what, body, likely_need(method, path, params)) from exc

    def wait_task(self, node: str, upid: str, what: str) -> None:
        """Poll a task until it stops; a failed task raises Permanent with its exit status and log tail."""
        deadline = time.monotonic() + self.task_timeout
        while True:
            status = self.call("GET", f"nodes/{node}/tasks/{upid}/status")
            if status.get("status") == "stopped":
                break
            if time.monotonic() > deadline:
                raise Transient(f"{what}: task {upid} still running after {self.task_timeout:.0f}s")
            time.sleep(self.poll_interval)
        exitstatus = str(status.get("exitstatus", ""))
        if exitstatus == "OK" or exitstatus.startswith("WARNINGS:"):
            return
        raise TaskFailed(what, exitstatus, self.task_log_tail(node, upid))

    def task_log_tail(self, node: str, upid: str) -> list[str]:
        try:
            lines = self.call("GET", f"nodes/{node}/tasks/{upid}/log", start=0, limit=0)
        except (Transient, Permanent):
            return []
        return [str(line.get("t", "")) for line in lines][-TASK_LOG_TAIL:]

    def run_task(self, method: str, path: str, node: str, **params: Any) -> None:
        upid = self.call(method, path, **params)
        if isinstance(upid, str) and upid.startswith("UPID:"):
            self.wait_task(node, upid, f"{method} /{path}")


class TaskFailed(Permanent):
    """A PVE worker task ended with an error; carries its exit status and the tail of its log."""

    def __init__(self, what: str, exitstatus: str, log_tail: list[str]) -> None:
        self.exitstatus = exitstatus
        self.log_tail = log_tail
        tail = "\n".join(f"  {line}" for line in log_tail)
        super().__init__(f"{what}: task failed: {exitstatus}" + (f"\ntask log (last lines):\n{tail}" if tail else ""))
