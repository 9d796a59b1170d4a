"""The UI against a real lab run: live progress in a real browser, the converged cluster, and no secret anywhere."""

from __future__ import annotations

import html
import re
import shutil
from typing import Any

import httpx
import pytest

from runner.engine.service.journal import RunFilter
from tests.ui.conftest import REPO_ROOT, LabRun
from tests.ui.labsecrets import lab_secret_values
from tests.ui.uikit import ARTIFACTS, CHROMIUM_ARGS, Page, wait_until

RUN_TIMEOUT_MS = 180_000  # bounds a broken run; the lab bootstrap itself takes seconds


def run_of(lab: LabRun) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        runs = lab.session.journal.runs(RunFilter(cluster="home", mode="apply"))
        return next((r for r in runs if r["commit_sha"] == lab.commit), None)

    return wait_until(find, f"a run of {lab.commit[:12]} to start")


@pytest.mark.e2e
@pytest.mark.browser
def test_browser_follows_a_lab_run_live_and_sees_the_cluster_ready(held_lab_run: LabRun) -> None:
    lab_run = held_lab_run
    chromium = shutil.which("chromium")
    if chromium is None:
        lab_run.release()
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); the browser test drives it")
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    base = lab_run.session.server.url
    run = run_of(lab_run)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{base}/runs/{run['id']}")
            expect(page.locator("h1")).to_have_text(f"Run {run['id']}: apply of cluster home")
            # The fixture holds the Proxmox twin's tasks: the bootstrap is still going, so the page starts out live.
            expect(page.locator("#progress")).to_have_attribute("data-live-src", f"/runs/{run['id']}/live")
            expect(page.locator("#progress .status-line")).to_contain_text("Running:")
            lab_run.release()
            expect(page.locator("#progress tbody tr").first).to_be_visible(timeout=RUN_TIMEOUT_MS)
            page.screenshot(path=str(ARTIFACTS / "ui-run-live.png"), full_page=True)

            # No reload from us: the page's script polls the fragment, then reloads once to show the plan.
            expect(page.locator("#progress .status-line")).to_contain_text("Finished", timeout=RUN_TIMEOUT_MS)
            expect(page.locator("table.plan caption")).to_have_text(re.compile(r"Steps in execution order: \d+"))
            phases = page.locator("table.plan tbody tr td:nth-child(4)").all_inner_texts()
            order = ["infrastructure", "talos", "bootstrap", "kubernetes"]  # a bootstrap runs them in this order
            assert phases == sorted(phases, key=order.index) and set(phases) == set(order), phases
            expect(page.locator("#summary-h + dl .badge")).to_have_text("success")
            expect(page.locator("table.plan th[scope=row] code", has_text="bootstrap").first).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "ui-run-finished.png"), full_page=True)

            page.goto(base + "/")
            nodes = page.locator("table", has=page.locator("caption", has_text="Nodes of home"))
            expect(nodes.locator("tbody tr")).to_have_count(5)
            expect(nodes.locator(".badge", has_text=re.compile(r"^Ready$"))).to_have_count(5)
            expect(page.locator("#cluster-home + dl")).to_contain_text("Nodes ready5 of 5")
            page.screenshot(path=str(ARTIFACTS / "ui-clusters.png"), full_page=True)

            page.goto(base + "/runs")
            expect(page.locator("tbody tr")).to_have_count(1)
            page.keyboard.press("Tab")  # the skip link comes first and shows itself when focused
            expect(page.locator("a.skip")).to_be_focused()
            page.screenshot(path=str(ARTIFACTS / "ui-runs.png"), full_page=True)

            no_js = browser.new_context(java_script_enabled=False, viewport={"width": 1400, "height": 1000})
            reader = no_js.new_page()
            reader.goto(f"{base}/runs/{run['id']}")
            expect(reader.locator("table.plan")).to_have_count(1)
            expect(reader.locator("#progress tbody tr")).not_to_have_count(0)
            no_js.close()
        finally:
            browser.close()


@pytest.mark.e2e
def test_no_page_shows_a_secret_of_the_lab_cluster(lab_run: LabRun) -> None:
    lab_run.session.wait_for_run(lab_run.commit)
    secrets = lab_secret_values(REPO_ROOT)
    assert len(secrets) > 20, "the secrets file and the Talos bundle should yield many values"
    base = lab_run.session.server.url
    run_ids = [r["id"] for r in lab_run.session.journal.runs(limit=500)]
    paths = ["/", "/ui/fragments/clusters", "/runs", "/prs"]
    paths += [p for i in run_ids for p in (f"/runs/{i}", f"/runs/{i}/live")]
    with httpx.Client(base_url=base, timeout=10) as client:
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            text = response.text + html.unescape(response.text)
            leaked = [s[:6] + "…" for s in secrets if s in text]
            assert not leaked, f"{path} shows secret values starting {leaked}"
        overview = Page(client.get("/").text)
    assert "Nodes of home" in overview.texts("caption")  # the pages checked are the real, populated ones
