"""A throwaway PostgreSQL for the tests: Debian's (or any) PostgreSQL binaries, an unprivileged cluster in a
temporary directory, on a free local port, trust authentication for the loopback only. No mock.

As root (containers, CI), the cluster runs as `nobody`: PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

UNPRIVILEGED = "nobody"
_names = itertools.count(1)


def binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/<major>/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(candidate) / "initdb").is_file():
            return Path(candidate)
    return None


def missing(reason: str) -> None:
    """CI must have PostgreSQL (.ci/run installs it): there a missing one fails; elsewhere it skips."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL tests need the postgresql package: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason} (apt-get install postgresql)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Postgres:
    port: int
    user: str = "runner"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database for one test; its URL."""
        name = f"t{os.getpid()}_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop a test's database and close whatever connections the test's runners left open to it."""
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[Postgres]:
    bin_dir = binaries()
    if bin_dir is None:
        missing("initdb/pg_ctl are neither on PATH nor under /usr/lib/postgresql/*/bin")
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="runner-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam(UNPRIVILEGED)
        as_user = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        os.chown(root, user.pw_uid, user.pw_gid)
    data, port = root / "data", _free_port()
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}

    def run(*args: str) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            missing(f"{args[0]} failed: {(done.stderr or done.stdout).strip()[-400:]}")

    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "runner", "--auth=trust", "-E", "UTF8", "--no-sync")
    options = f"-k {root} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start")
    try:
        yield Postgres(port)
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
