"""`talosctl apply-config --dry-run` answers as machined does: the mode it would take and the config diff.

machined (siderolabs/talos v1.13.9, the same at v1.11.2): ApplyConfiguration with DryRun returns
"Dry run summary:\\n<mode details> (skipped in dry-run).\\nConfig diff:\\n\\n<diff or 'No changes.'>"; the mode comes
from CanApplyImmediate (auto: a reboot when a field outside the immediately-applicable list changed), the
diff from configdiff.DiffConfigs (unified, `--- a`/`+++ b`, three lines of context).
"""

from __future__ import annotations

import base64

from runner.drivers.talos import TalosctlDriver
from runner.lab.talos import TalosTwin
from runner.lab.talos.apply_verdict import config_diff
from tests.talos_nodes.conftest import Bundle, running, talosctl_as_runner

CP = "10.0.0.11"
ENV = "    certSANs: []\n    env:\n        http_proxy: http://10.0.0.1:3128\n"


def _dry_run(driver: TalosctlDriver, tmp_path, config: str, mode: str = "auto") -> tuple[int, str]:  # type: ignore[no-untyped-def]
    path = tmp_path / "machine.yaml"
    path.write_text(config)
    result = talosctl_as_runner(driver, "apply-config", "--file", str(path), "--mode", mode, "--dry-run", nodes=[CP])
    return result.returncode, result.stderr


def _ca_lines(bundle: Bundle) -> str:
    crt, key = (base64.b64encode(pem).decode() for pem in (bundle.os_ca.crt_pem, bundle.os_ca.key_pem))
    return f"     ca:\n         crt: {crt}\n         key: {key}\n"


def test_dry_run_of_the_running_config_says_no_changes(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    code, stderr = _dry_run(driver, tmp_path, bundle.config("controlplane", "talos-cp-01"))
    assert code == 0
    assert stderr == (
        "Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\nConfig diff:\n\nNo changes.\n"
    )


def test_dry_run_shows_the_diff_and_changes_nothing(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    before = twin.lab.nodes[CP].config
    changed = bundle.config("controlplane", "talos-cp-01").replace("certSANs: []", "certSANs: [10.0.0.20]")
    code, stderr = _dry_run(driver, tmp_path, changed)
    assert code == 0
    assert stderr == (
        "Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\nConfig diff:\n\n"
        "--- a\n+++ b\n@@ -7,7 +7,8 @@\n"
        + _ca_lines(bundle)
        + "-    certSANs: []\n+    certSANs:\n+      - 10.0.0.20\n"
        "     kubelet:\n         image: ghcr.io/siderolabs/kubelet:v1.32.1\n     network:\n"
        "\n"  # talosctl's PrintApplyResults: fmt.Fprintln(os.Stderr, ModeDetails) after the diff's own newline
    )
    assert twin.lab.nodes[CP].config is before


def test_dry_run_of_a_change_outside_the_immediate_fields_says_it_reboots(  # type: ignore[no-untyped-def]
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, tmp_path
) -> None:
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    boot_id = twin.lab.nodes[CP].boot_id
    changed = bundle.config("controlplane", "talos-cp-01").replace("    certSANs: []\n", ENV)
    code, stderr = _dry_run(driver, tmp_path, changed)
    assert code == 0
    assert stderr.startswith("Dry run summary:\nApplied configuration with a reboot (skipped in dry-run).\n")
    assert "\n+    env:\n+        http_proxy: http://10.0.0.1:3128\n" in stderr
    assert twin.lab.nodes[CP].boot_id == boot_id and twin.lab.nodes[CP].phase == "running"


def test_no_reboot_mode_refuses_it_with_machineds_diff(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    changed = bundle.config("controlplane", "talos-cp-01").replace("    certSANs: []\n", ENV)
    code, stderr = _dry_run(driver, tmp_path, changed, mode="no-reboot")
    assert code == 1
    assert "this config change can't be applied in immediate mode\ndiff:\n--- a\n+++ b\n" in stderr
    assert "+    env:\n" in stderr


def test_an_installer_image_change_applies_without_a_reboot(
    twin: TalosTwin, driver: TalosctlDriver, bundle: Bundle, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # `.machine.install` is in CanApplyImmediate's list: the new image is used by the next upgrade, not now.
    running(twin, bundle, CP, "controlplane", "talos-cp-01")
    changed = bundle.config("controlplane", "talos-cp-01", installer="factory.talos.dev/installer/abc123:v1.11.2")
    code, stderr = _dry_run(driver, tmp_path, changed)
    assert code == 0
    assert stderr.startswith("Dry run summary:\nApplied configuration without a reboot (skipped in dry-run).\n")


def test_the_diff_matches_upstream_configdiff_vectors() -> None:
    # pkg/machinery/config/configdiff/configdiff_test.go TestDiffString @v1.13.9
    base = {"version": "v1alpha1", "machine": {"type": "controlplane", "token": "foo", "certSANs": []}, "cluster": None}
    other = {**base, "machine": {**base["machine"], "type": "worker"}}  # type: ignore[dict-item]
    link = {"apiVersion": "v1alpha1", "kind": "SideroLinkConfig", "apiUrl": "https://example.com"}
    assert config_diff([], []) == ""
    assert config_diff([base], [base]) == ""
    assert config_diff([base], [base, link]) == (
        "--- a\n+++ b\n@@ -4,3 +4,7 @@\n     token: foo\n     certSANs: []\n cluster: null\n+---\n"
        "+apiVersion: v1alpha1\n+kind: SideroLinkConfig\n+apiUrl: https://example.com\n"
    )
    assert config_diff([base, link], [other, link]) == (
        "--- a\n+++ b\n@@ -1,6 +1,6 @@\n version: v1alpha1\n machine:\n-    type: controlplane\n+    type: worker\n"
        "     token: foo\n     certSANs: []\n cluster: null\n"
    )
