"""What the Image Factory twin remembers: schematics, known Talos versions and extensions, calls, faults."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from importlib import resources

# A small slice of what factory.talos.dev lists under GET /versions.
DEFAULT_VERSIONS = (
    "v1.10.0",
    "v1.10.1",
    "v1.10.2",
    "v1.10.3",
    "v1.10.4",
    "v1.10.5",
    "v1.10.6",
    "v1.10.7",
    "v1.11.0",
    "v1.11.1",
    "v1.11.2",
    "v1.11.3",
    "v1.11.4",
    "v1.11.5",
    "v1.11.6",
    *(f"v1.12.{p}" for p in range(12)),
    *(f"v1.13.{p}" for p in range(10)),
)


# The Talos minors whose official extensions are vendored (data/README.md): each minor has its own list.
EXTENSION_MINORS = ((1, 11), (1, 12), (1, 13))


def official_extensions(minor: tuple[int, int] = (1, 11)) -> tuple[str, ...]:
    """Official extension names of one Talos minor (vendored, see data/README.md)."""
    text = resources.files(__package__).joinpath(f"data/official_extensions_v{minor[0]}.{minor[1]}.txt").read_text()
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def extensions_by_minor() -> dict[tuple[int, int], tuple[str, ...]]:
    return {minor: official_extensions(minor) for minor in EXTENSION_MINORS}


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    status: int


@dataclass
class Faults:
    """Injected misbehaviour: a delay before every answer, and a number of upcoming 5xx answers."""

    latency: float = 0.0
    fail_next: int = 0
    fail_status: int = 503
    fail_path_prefix: str = ""  # only requests under this path fail ("" = any)

    def take_failure(self, path: str) -> int | None:
        if self.fail_next > 0 and path.startswith(self.fail_path_prefix):
            self.fail_next -= 1
            return self.fail_status
        return None


@dataclass
class FactoryState:
    """Mutable twin state; one lock because uvicorn may serve requests concurrently."""

    versions: tuple[str, ...] = DEFAULT_VERSIONS
    # Talos minor -> its official extensions: the factory lists and builds the requested version's own
    extensions: dict[tuple[int, int], tuple[str, ...]] = field(default_factory=extensions_by_minor)
    # Enterprise-only `.sha256`/`.sha512` image suffixes; the community factory answers them 402.
    checksums: bool = False
    schematics: dict[str, bytes] = field(default_factory=dict)  # id -> canonical YAML
    calls: list[Call] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        """Forget schematics, calls and faults (tests share one running twin)."""
        with self.lock:
            self.schematics.clear()
            self.calls.clear()
            self.faults = Faults()
            self.checksums = False
            self.versions, self.extensions = DEFAULT_VERSIONS, extensions_by_minor()

    def extensions_for(self, tag: str) -> tuple[str, ...]:
        """The official extensions of `tag`'s minor (a minor older than every list gets the oldest list)."""
        major, minor, *_ = tag.lstrip("v").split(".")
        wanted = (int(major), int(minor))
        known = sorted(self.extensions)
        return self.extensions[max((m for m in known if m <= wanted), default=known[0])]

    def record(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.calls.append(Call(method, path, status))

    def calls_to(self, method: str, path_prefix: str = "/") -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]

    def inject_failures(self, count: int, status: int = 503, path_prefix: str = "") -> None:
        with self.lock:
            self.faults.fail_next, self.faults.fail_status, self.faults.fail_path_prefix = count, status, path_prefix
