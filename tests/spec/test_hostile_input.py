"""Hostile cluster.yaml files: refused quickly with file:line, never a traceback, a hang or a file outside the repo.

The fuzz mutates the reference cluster.yaml with a seeded generator (so a failure names its seed and can be
replayed) and loads every mutant through `runner validate`'s code path; some also through the CLI itself.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runner.cli.main import app
from runner.core.errors import SpecInvalid
from runner.core.input_limits import MAX_SPEC_BYTES
from runner.engine.reconcile.load import LoadedCluster, load_cluster
from runner.engine.reconcile.source import DirSource

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = (ROOT / "clusters/home/cluster.yaml").read_bytes()
TOKENS = json.loads((Path(__file__).parent / "data/fuzz_tokens.json").read_text())
SCALARS: list[str] = TOKENS["scalars"]
BYTES: list[bytes] = [token.encode("latin-1").decode("unicode_escape").encode("latin-1") for token in TOKENS["bytes"]]
FUZZ_CASES = 320
SPEC = "clusters/home/cluster.yaml"
APPENDED = REFERENCE.count(b"\n") + 1  # the line number of a line added at the end of the reference file


def _within(seconds: float, work: Callable[[], object]) -> object:
    """Run `work` in a thread; a hang fails the test after `seconds` instead of stalling the suite."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed back to the test, which decides what is allowed
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds} s"
    return outcome[0]


def _repo_with(tmp_path: Path, spec: bytes) -> Path:
    (tmp_path / "clusters/home").mkdir(parents=True, exist_ok=True)
    (tmp_path / SPEC).write_bytes(spec)
    return tmp_path


def _load(root: Path) -> object:
    return _within(10, lambda: load_cluster(DirSource(root), "home", decrypt=None))


# --- the named attacks --------------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_a_billion_laughs_file_is_refused_in_under_a_second(tmp_path: Path) -> None:
    laughs = ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    laughs += [f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]  # 9^10 values
    root = _repo_with(tmp_path, REFERENCE + ("\n".join(laughs) + "\n").encode())
    started = time.monotonic()
    refused = _within(10, lambda: load_cluster(DirSource(root), "home", decrypt=None))
    elapsed = time.monotonic() - started
    assert isinstance(refused, SpecInvalid)
    # lol5 (9^6 values) is the first line that is too much
    assert str(refused) == f"{SPEC}:{APPENDED + 5}: more than 100000 values once aliases are expanded"
    assert elapsed < 1.0, f"took {elapsed:.2f} s"


def test_a_file_above_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    root = _repo_with(tmp_path, REFERENCE + b"#" * MAX_SPEC_BYTES)
    refused = _load(root)
    assert isinstance(refused, SpecInvalid)
    size = len(REFERENCE) + MAX_SPEC_BYTES
    assert str(refused) == f"{SPEC}: is {size} bytes; a spec file may be at most 1048576 bytes"


def test_a_symlink_leaving_the_repository_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_bytes(REFERENCE)
    root = tmp_path / "repo"
    (root / "clusters/home").mkdir(parents=True)
    (root / SPEC).symlink_to(outside)
    refused = _load(root)
    assert isinstance(refused, SpecInvalid)
    assert str(refused) == f"{SPEC}: is a symbolic link to a file outside the repository"


def test_a_symlink_inside_the_repository_is_followed(tmp_path: Path) -> None:
    root = _repo_with(tmp_path, b"")
    (root / "shared.yaml").write_bytes(REFERENCE)
    (root / SPEC).unlink()
    (root / SPEC).symlink_to(root / "shared.yaml")
    loaded = _load(root)
    assert isinstance(loaded, LoadedCluster) and loaded.cluster.name == "home"


def test_deep_nesting_is_refused_before_the_parser_recurses(tmp_path: Path) -> None:
    root = _repo_with(tmp_path, REFERENCE + b"extra: " + b"[" * 100_000 + b"]" * 100_000 + b"\n")
    refused = _load(root)
    assert isinstance(refused, SpecInvalid)
    assert str(refused) == f"{SPEC}:{APPENDED}: nested more than 32 levels deep"


def test_the_cli_says_what_is_wrong_and_never_prints_a_traceback(tmp_path: Path) -> None:
    root = _repo_with(tmp_path, REFERENCE.replace(b"memory: 8192", b"memory: " + b"9" * 5000, 1))
    line = REFERENCE[: REFERENCE.index(b"memory: 8192")].count(b"\n") + 1
    result = CliRunner().invoke(app, ["validate", str(root / "clusters/home")])
    assert result.exit_code == 1
    problem = f"{SPEC}:{line}: a number of 5000 characters is out of range"
    assert result.output == f"{problem}\n1 error; nothing was changed\n"


# --- the fuzz -----------------------------------------------------------------------------------------------


def _mutant(seed: int) -> bytes:
    """One to three mutations of the reference file: replaced scalars, moved or cut lines, stray bytes."""
    rng = random.Random(seed)
    lines = REFERENCE.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        kind = rng.choice(
            ["scalar", "scalar", "scalar", "delete", "duplicate", "indent", "bytes", "truncate", "shape", "aliases"]
        )
        key = lines[i].split(b":", 1)[0] if b":" in lines[i] else b"extra"
        if kind == "scalar":
            lines[i] = key + b": " + rng.choice(SCALARS).encode("utf-8", "surrogatepass")
        elif kind == "shape":  # nesting and numbers of any size, within and far beyond the limits
            depth, digits = rng.choice([1, 5, 31, 33, 500, 20_000]), rng.choice([1, 20, 41, 4301, 100_000])
            value = rng.choice([b"[" * depth + b"]" * depth, b"{a: " * depth + b"1" + b"}" * depth, b"7" * digits])
            lines[i] = key + b": " + value
        elif kind == "aliases":  # anchors and aliases, from harmless reuse to an exponential bomb
            width, levels = rng.randint(1, 12), rng.randint(1, 12)
            bomb = [b"a0: &a0 [x]"] + [
                b"a%d: &a%d [%s]" % (n, n, b", ".join([b"*a%d" % (n - 1)] * width)) for n in range(1, levels)
            ]
            lines[i:i] = bomb
        elif kind == "delete":
            del lines[i]
        elif kind == "duplicate":
            lines.insert(rng.randrange(len(lines)), lines[i])
        elif kind == "indent":
            lines[i] = b" " * rng.choice([1, 3, 8]) + lines[i].lstrip()
        elif kind == "bytes":
            at = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:at] + rng.choice(BYTES) + lines[i][at:]
        elif kind == "truncate":
            lines = [*lines[:i], lines[i][: rng.randint(0, len(lines[i]))]]
    return b"\n".join(lines)


def test_mutated_reference_files_give_errors_or_a_cluster_never_anything_else(tmp_path: Path) -> None:
    outcomes = {"loaded": 0, "refused": 0}
    failures: list[str] = []
    for seed in range(FUZZ_CASES):
        root = _repo_with(tmp_path, _mutant(seed))
        started = time.monotonic()
        result = _load(root)
        if time.monotonic() - started > 5:  # a loaded machine is slow; a hang is far slower
            failures.append(f"seed {seed}: took {time.monotonic() - started:.1f} s")
        if isinstance(result, LoadedCluster):
            outcomes["loaded"] += 1
        elif isinstance(result, SpecInvalid) and result.errors and all(p.file == SPEC for p in result.errors):
            outcomes["refused"] += 1
        else:
            failures.append(f"seed {seed}: {type(result).__name__}: {result}")
    assert failures == []
    assert outcomes["refused"] > FUZZ_CASES // 2  # the mutations are mostly real damage, not no-ops
    assert sum(outcomes.values()) == FUZZ_CASES


def test_mutated_files_through_the_cli_exit_0_or_1_with_no_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    for seed in range(0, FUZZ_CASES, 8):  # every eighth mutant, through the whole command
        root = _repo_with(tmp_path, _mutant(seed))
        result = _within(20, lambda root=root: runner.invoke(app, ["validate", str(root / "clusters/home")]))
        assert result.exit_code in (0, 1), f"seed {seed}: exit {result.exit_code}: {result.output}"
        clean_exit = result.exception is None or isinstance(result.exception, SystemExit)
        assert clean_exit, f"seed {seed}: {result.exception!r}"
        assert "Traceback" not in result.output, f"seed {seed}"
        assert result.exit_code == 0 or "nothing was changed" in result.output, f"seed {seed}: {result.output}"
