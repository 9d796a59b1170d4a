"""What the twin's simulated controllers share: the objects they read and write, the types those have, and
one log of readiness transitions (shared by all of them, so that it keeps the order they happened in)."""

from __future__ import annotations

from .catalog import Catalog, ResourceType
from .store import Store


class Controller:
    def __init__(self, store: Store, catalog: Catalog, events: list[str]) -> None:
        self.store = store
        self.catalog = catalog
        self.events = events  # "Kind/namespace/name Ready" and the like, in order

    def _rt(self, api_version: str, kind: str) -> ResourceType:
        """A type the controller only asks for once it is served (built in, or its CRD is installed)."""
        rt = self.catalog.by_kind(api_version, kind)
        assert rt is not None
        return rt
