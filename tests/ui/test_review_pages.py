"""What a reviewer looks at, in a real browser: a run's plan in execution order (a drain before the update it
precedes) and a plan as a PR comment (GitHub's markdown: a long plan folded, each change labelled).

Screenshots go to artifacts/ (review-run-drain.png, review-pr-comment-folded.png, review-pr-comment-open.png).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from runner.core.planner import plan
from runner.core.render import render_markdown
from runner.core.state import Observed
from runner.engine.service.queue import RunRequest
from runner.lab.serve import serve_in_thread
from runner.server.app import create_app, service_of
from tests.app_settings import settings_under
from tests.planner.scenario import converged, desired_for
from tests.ui.conftest import never_called
from tests.ui.uikit import ARTIFACTS, CHROMIUM_ARGS, DATA

# Enough of GitHub's comment styling for the screenshot to read like the real thing.
COMMENT_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>PR comment</title><style>
body{{font:14px/1.5 -apple-system,system-ui,sans-serif;max-width:64rem;margin:2rem auto;color:#1f2328}}
.comment{{border:1px solid #d1d9e0;border-radius:6px;padding:0 1rem 1rem;margin-bottom:2rem}}
table{{border-collapse:collapse;display:block;overflow:auto}}td,th{{border:1px solid #d1d9e0;padding:4px 10px}}
code{{background:#eff1f3;border-radius:4px;padding:.1em .3em;font-size:85%}}pre{{background:#f6f8fa;padding:1rem}}
summary{{cursor:pointer}}</style></head><body>{comments}</body></html>"""


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); the browser test drives it")
    return found


@pytest.mark.browser
def test_a_drain_shows_before_the_update_it_precedes_on_the_run_page(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    settings = settings_under(tmp_path, repo_url=str(tmp_path / "origin.git"), webhook_secret="review-pages-secret")
    app = create_app(settings, never_called)
    journal = service_of(app).journal
    run_id = journal.start_run(RunRequest("home", "c" * 40, "refs/heads/main", "push", "apply", "lab/home"))
    planned = (DATA / "plan_resize.json").read_text()  # the real planner's: more memory for talos-worker-01
    for step in json.loads(planned)["steps"]:
        journal.start_step(run_id, step["id"], step["kind"])
        journal.finish_step(run_id, step["id"], "succeeded", "done")
    journal.finish_run(run_id, result="success", summary="applied 3 steps", plan_json=planned)
    ARTIFACTS.mkdir(exist_ok=True)
    server = serve_in_thread(app)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"{server.url}/runs/{run_id}")
                kinds = page.locator("table.plan tbody th[scope=row] code").all_inner_texts()
                assert kinds == ["drain_node", "update_vm", "uncordon_node"]
                expect(page.locator("table.plan tbody tr").first.locator(".sigil")).to_contain_text("»")
                expect(page.locator("p.legend")).to_contain_text("drains a node")
                page.screenshot(path=str(ARTIFACTS / "review-run-drain.png"), full_page=True)
            finally:
                browser.close()
    finally:
        server.stop()


@pytest.mark.browser
def test_a_long_plan_comment_opens_from_its_outline_and_labels_what_each_change_changes() -> None:
    from playwright.sync_api import expect, sync_playwright

    bootstrap = render_markdown(plan(desired_for(None), Observed()))
    resize = render_markdown(plan(desired_for({"nodes.3.memory": 20480}), converged(desired_for(None))))
    markdown = MarkdownIt("commonmark", {"html": True}).enable("table")  # GitHub renders comments as GFM
    emoji = {":warning:": "⚠️", ":no_entry:": "⛔"}  # GitHub shows these shortcodes as emoji
    for code, shown in emoji.items():
        bootstrap, resize = bootstrap.replace(code, shown), resize.replace(code, shown)
    comments = "".join(f'<div class="comment">{markdown.render(text)}</div>' for text in (bootstrap, resize))
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_content(COMMENT_PAGE.format(comments=comments))
            folded = page.locator(".comment").first
            expect(folded.locator("summary")).to_have_text(
                "+5 VMs, 5 configs, bootstrap, Flux install, endpoint to the VIP"
            )
            expect(folded.locator("table")).not_to_be_visible()
            short = page.locator(".comment").nth(1)
            expect(short.locator("table")).to_be_visible()  # three steps: nothing folded
            expect(short.locator("p", has_text="VM settings")).to_contain_text("vm/303")
            expect(short.locator("pre code")).to_contain_text("~ memory: 16384 MiB → 20480 MiB")
            page.screenshot(path=str(ARTIFACTS / "review-pr-comment-folded.png"), full_page=True)
            folded.locator("summary").click()
            expect(folded.locator("table")).to_be_visible()
            expect(folded.locator("table tbody tr")).to_have_count(31)
            page.screenshot(path=str(ARTIFACTS / "review-pr-comment-open.png"), full_page=True)
        finally:
            browser.close()
