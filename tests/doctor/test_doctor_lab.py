"""`runner doctor` against the lab: passes on the host the README prepares, names the cause of each failure."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from runner.cli.main import app
from runner.lab.proxmox.host_setup import ROLE, ROLE_PRIVILEGES

from .conftest import REPO_ROOT, doctor, failures


def test_doctor_passes_with_the_documented_role(lab, twin):
    rows = doctor(lab)
    assert failures(rows) == []
    assert {row.check for row in rows} == {
        "age key",
        "key separation",
        "proxmox version",
        "token privileges",
        "image storage",
        "bridge",
        "vmids",
        "csi token",
        "image factory",
        "talosctl",
        "talosctl 1.11",  # the lab names one talosctl per Talos minor
        "talosctl 1.12",
        "talosctl 1.13",
        "forge token",
        "webhook secret",
    }
    assert all(row.result.value == "ok" for row in rows), rows


@pytest.mark.parametrize("privilege", ROLE_PRIVILEGES)
def test_doctor_names_each_missing_privilege(lab, twin, privilege):
    twin.access.roles[ROLE] = frozenset(ROLE_PRIVILEGES) - {privilege}
    failed = failures(doctor(lab))
    lacking = [line for line in failed if line.startswith("token privileges: runner@pve!gitops lacks ")]
    assert {line.split(" lacks ")[1].split(" on ")[0] for line in lacking} == {privilege}, failed
    # a check that could not look because of it says so (the storage is invisible without AllocateSpace)
    assert all(privilege in line for line in failed if line not in lacking), failed


@pytest.mark.parametrize("version", ["8.4.1", "9.2.11"])
def test_doctor_names_the_pve_version_and_the_missing_privilege(lab, twin, version):
    twin.version = version
    twin.access.roles[ROLE] = frozenset(ROLE_PRIVILEGES) - {"VM.PowerMgmt"}
    rows = {(row.check, row.result.value): row for row in doctor(lab)}
    assert rows[("proxmox version", "ok")].detail == f"PVE {version}"
    lacking = rows[("token privileges", "fail")]
    assert lacking.detail == (
        f"runner@pve!gitops lacks VM.PowerMgmt on /vms/304 (needed to manage VM 304), a privilege of PVE {version}"
    )
    assert lacking.fix == (
        "add it to the role: pveum role modify RunnerProvisioner --append 1 --privs VM.PowerMgmt, "
        "or grant the role on /vms/304 to the user and the token (see README: Prepare your Proxmox host)"
    )


@pytest.mark.parametrize("version", ["8.4.1", "9.2.11"])
def test_doctor_passes_on_each_supported_release(lab, twin, version):
    twin.version = version
    rows = {row.check: row for row in doctor(lab)}
    assert failures(list(rows.values())) == []
    assert rows["token privileges"].detail == f"runner@pve!gitops has every privilege the runner uses on PVE {version}"


def test_doctor_refuses_pve_8_2(lab, twin):
    twin.version = "8.2.4"
    assert failures(doctor(lab)) == [
        "proxmox version: PVE 8.2.4: downloading a .qcow2 image as content 'import' needs PVE 8.4 or newer"
    ]


def test_doctor_names_the_missing_import_content_type(lab, twin):
    twin.storages["local"].content -= {"import"}
    rows = [row for row in doctor(lab) if row.result.value == "fail"]
    assert [(row.check, row.detail, row.fix) for row in rows] == [
        (
            "image storage",
            "storage 'local' lacks content type 'import' (has backup,iso,vztmpl)",
            "pvesm set local --content backup,import,iso,vztmpl",
        )
    ]


def test_doctor_names_a_missing_bridge(lab, twin):
    twin.bridges = {"vmbr1"}
    assert failures(doctor(lab)) == ["bridge: bridge 'vmbr0' does not exist on atlas (bridges: vmbr1)"]


def test_doctor_names_a_vmid_held_by_a_foreign_vm_and_points_to_adopt(lab, twin):
    twin.add_foreign_vm(302, "legacy-db")
    rows = [row for row in doctor(lab) if row.result.value == "fail"]
    assert [(row.check, row.detail, row.fix) for row in rows] == [
        (
            "vmids",
            "VMID 302 (talos-cp-03) is held by a VM the runner does not own: 'legacy-db'",
            "if it is this cluster's node built without the runner, take the cluster over with `runner adopt "
            "clusters/home` (it only reports until --apply); do not give talos-cp-03 another VMID: a new VM on "
            "10.0.0.13 would meet the running machine there",
        )
    ]


def test_the_cli_prints_a_table_and_exits_1_on_a_failure(lab, twin, monkeypatch):
    monkeypatch.setenv("RUNNER_CONFIG", str(lab.config_file))
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    ok = runner.invoke(app, ["doctor", str(lab.repo_root / "clusters/home")])
    assert ok.exit_code == 0, ok.output
    assert "all checks passed" in ok.output
    twin.bridges = {"vmbr1"}
    bad = runner.invoke(app, ["doctor", str(lab.repo_root / "clusters/home")])
    assert bad.exit_code == 1
    assert "bridge 'vmbr0' does not exist on atlas" in bad.output
    assert "1 check failed" in bad.output


def test_doctor_names_a_forge_token_that_may_not_write(lab, twin):
    forge = lab.world.forge_state
    user = forge.tokens[lab.settings.forge_token.reveal()]
    forge.roles[user] = "read"
    try:
        assert failures(doctor(lab)) == [
            "forge token: the token may not write to home/cluster (statuses and PR comments need write access)"
        ]
    finally:
        forge.roles[user] = "write"


def test_doctor_names_a_short_webhook_secret(lab, twin):
    from runner.core.secret import Secret
    from runner.engine.commands.doctor import build_context, run_checks

    short = lab.settings.model_copy(update={"webhook_secret": Secret("hunter2")})
    rows = run_checks(build_context(lab.repo_root, "home", short))
    assert [f"{r.check}: {r.detail}" for r in rows if r.result.value == "fail"] == [
        "webhook secret: 7 characters; at least 32 are needed"
    ]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("version", "v1.99.0", "image factory: {url} does not know Talos v1.99.0"),
        (
            "extensions",
            ["siderolabs/qemu-guest-agent", "siderolabs/no-such-thing"],
            "image factory: not official extensions for Talos v1.13.9: siderolabs/no-such-thing",
        ),
    ],
)
def test_doctor_names_what_the_image_factory_does_not_know(lab, twin, field, value, expected):
    from runner.engine.commands.doctor import build_context
    from runner.engine.commands.doctor.factory import image_factory

    ctx = build_context(lab.repo_root, "home", lab.settings)
    ctx.cluster = ctx.cluster.model_copy(update={"talos": ctx.cluster.talos.model_copy(update={field: value})})
    [row] = image_factory(ctx)
    assert f"{row.check}: {row.detail}" == expected.format(url=lab.settings.image_factory_url)


def test_an_unreachable_proxmox_fails_once_and_skips_the_rest(lab, twin):
    from runner.engine.commands.doctor import build_context, run_checks
    from runner.lab.serve import free_port

    gone = lab.settings.model_copy(update={"proxmox_url": f"https://127.0.0.1:{free_port()}"})
    rows = {row.check: row for row in run_checks(build_context(lab.repo_root, "home", gone))}
    assert rows["proxmox version"].result.value == "fail"
    assert "connection failed" in rows["proxmox version"].detail
    for check in ("token privileges", "image storage", "bridge", "vmids"):
        assert rows[check].result.value == "skip"


def test_doctor_refuses_a_flux_key_that_would_open_the_machine_secrets(lab, tmp_path):
    """A repository whose .sops.yaml would encrypt the machine secrets to the Flux key too."""
    import dataclasses
    import shutil

    from runner.engine.commands.doctor import build_context
    from runner.engine.commands.doctor.secrets import key_separation

    root = tmp_path / "repo"
    for rel in (".sops.yaml", "clusters/home/cluster.yaml", "clusters/home/secrets.sops.yaml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / rel, root / rel)
    shutil.copytree(REPO_ROOT / "flux", root / "flux")
    rules = (root / ".sops.yaml").read_text()
    flux_rule = rules.split("age: ")[-1].split(",")[0]  # the Flux recipient leads the flux/ rule
    runner_line = "    age: age1w6wpgww66yncmpc5dk2et76e5xekl2zexk8sy5vr2f4j3ua8559scafpdn\n"
    assert runner_line in rules
    (root / ".sops.yaml").write_text(rules.replace(runner_line, runner_line.rstrip("\n") + "," + flux_rule + "\n", 1))
    ctx = dataclasses.replace(build_context(REPO_ROOT, "home", lab.settings), root=root)
    rows = key_separation(ctx)
    assert [row.result.value for row in rows] == ["fail"], rows
    assert rows[0].detail.startswith(".sops.yaml:"), rows[0]
    assert flux_rule[:12] in rows[0].detail or "Flux" in rows[0].detail, rows[0]
