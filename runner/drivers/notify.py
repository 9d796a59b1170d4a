"""Notifications through apprise: one URL per target (slack://, discord://, matrix://, ntfy://, mailto://, json://).

apprise is the well-kept library here; the runner only says what happened. Its URLs carry tokens, so they
arrive as `Secret`s and are revealed only when handed to apprise. apprise is imported on first send: an
idle service that never notifies does not pay for its plugin tree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from runner.core.errors import Permanent
from runner.core.secret import Secret

Level = Literal["info", "success", "warning", "failure"]


class NotifyApi(Protocol):
    def send(self, title: str, body: str, level: Level) -> bool:
        """Deliver one notice to every configured target; False when any target did not take it."""
        ...


class AppriseNotifier:
    def __init__(self, urls: Sequence[Secret]) -> None:
        import apprise

        self._apprise = apprise.Apprise()
        for index, url in enumerate(urls):
            if not self._apprise.add(url.reveal()):
                # The URL itself may hold a token: name its position, never its text.
                raise Permanent(f"notify_urls[{index}]: apprise does not understand this URL (see its URL formats)")

    def send(self, title: str, body: str, level: Level) -> bool:
        import apprise

        kinds = {
            "info": apprise.NotifyType.INFO,
            "success": apprise.NotifyType.SUCCESS,
            "warning": apprise.NotifyType.WARNING,
            "failure": apprise.NotifyType.FAILURE,
        }
        return bool(self._apprise.notify(title=title, body=body, notify_type=kinds[level]))
