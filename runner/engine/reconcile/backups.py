"""Where etcd snapshots live: one directory per cluster under the `backup_dir` setting (a NAS mount, say).

Each snapshot is two files: `<id>.etcd.age` (the snapshot, age-encrypted) and `<id>.json` (what it is:
time, size, cluster, versions, controller). Nothing in it is secret but the snapshot, and that is never
written unencrypted here. The directory is the whole index: `backup list` works without the runner's DB.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from runner.core.errors import Permanent

SUFFIX = ".etcd.age"
_ID = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")


@dataclass(frozen=True)
class BackupInfo:
    id: str
    cluster: str
    taken_at: str  # ISO 8601, UTC
    size: int  # bytes of the (unencrypted) snapshot
    encrypted_size: int
    kubernetes_version: str | None
    talos_version: str | None
    controller: str  # the node the snapshot was taken from
    reason: str  # "schedule", "manual", or the step it was taken before

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


class BackupStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, cluster: str) -> Path:
        return self.root / cluster

    def new_id(self, cluster: str, now: dt.datetime) -> str:
        base = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        candidate, n = base, 1
        while (self._dir(cluster) / f"{candidate}.json").exists():
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    def add(self, info: BackupInfo, encrypted: bytes) -> BackupInfo:
        folder = self._dir(info.cluster)
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            _write_private(folder / f"{info.id}{SUFFIX}", encrypted)
            _write_private(folder / f"{info.id}.json", json.dumps(info.to_json(), indent=2).encode())
        except OSError as exc:
            raise Permanent(f"cannot store the etcd snapshot in {folder}: {exc.strerror or exc}") from None
        return info

    def snapshots(self, cluster: str | None = None) -> list[BackupInfo]:
        """Newest first; unreadable metadata files are skipped (a half-copied backup is not a backup)."""
        if not self.root.is_dir():
            return []
        folders = [self._dir(cluster)] if cluster else sorted(p for p in self.root.iterdir() if p.is_dir())
        found = []
        for folder in folders:
            for meta in folder.glob("*.json") if folder.is_dir() else ():
                try:
                    info = BackupInfo(**json.loads(meta.read_text()))
                except (OSError, ValueError, TypeError):
                    continue
                if (folder / f"{info.id}{SUFFIX}").is_file():
                    found.append(info)
        return sorted(found, key=lambda i: (i.taken_at, i.id), reverse=True)

    def get(self, cluster: str, backup_id: str) -> tuple[BackupInfo, Path]:
        if not _ID.match(backup_id):
            raise Permanent(f"{backup_id!r} is not a snapshot id (see `runner backup list {cluster}`)")
        info = next((i for i in self.snapshots(cluster) if i.id == backup_id), None)
        if info is None:
            raise Permanent(f"no snapshot {backup_id} of cluster {cluster} in {self._dir(cluster)}")
        return info, self._dir(cluster) / f"{backup_id}{SUFFIX}"

    def prune(self, cluster: str, keep: int) -> list[str]:
        """Delete all but the newest `keep` snapshots; returns the ids deleted."""
        gone = []
        for info in self.snapshots(cluster)[keep:]:
            for name in (f"{info.id}{SUFFIX}", f"{info.id}.json"):
                (self._dir(cluster) / name).unlink(missing_ok=True)
            gone.append(info.id)
        return gone

    def latest(self, cluster: str) -> BackupInfo | None:
        infos = self.snapshots(cluster)
        return infos[0] if infos else None
