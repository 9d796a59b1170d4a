"""Watching a budget while a run goes on: the fewest of something (Ready pods, running controllers) at any moment."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Fewest:
    """Samples `count` every `every` seconds in the background, from entering the block until leaving it.

    `fewest` starts at `start` (an upper bound: nothing sampled yet) and keeps the lowest count seen.
    """

    def __init__(self, count: Callable[[], int], *, start: int, every: float) -> None:
        self.count, self.fewest, self.every = count, start, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.wait(self.every):
            self.fewest = min(self.fewest, self.count())

    def __enter__(self) -> Fewest:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
