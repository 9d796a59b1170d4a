"""Run detail: summary, error, the plan as a diff-like view in execution order, and the step log that is live while
running."""

from __future__ import annotations

import json

from runner.engine.service.queue import RunRequest
from tests.ui.conftest import UI
from tests.ui.uikit import DATA, Page, squash


def plan_tables(page: Page) -> list[str]:
    return [c for c in page.texts("caption") if c.startswith("Steps in execution order")]


def test_the_plan_is_one_table_in_execution_order(ui: UI) -> None:
    page = Page(ui.client.get(f"/runs/{ui.run_ids[0]}").text)
    assert plan_tables(page) == ["Steps in execution order: 26"]
    plan = json.loads((DATA / "plan_bootstrap.json").read_text())
    row_headers = page.texts("th", scope="row")
    assert row_headers[: len(plan["steps"])] == [f"{step['kind']} {step['id']}" for step in plan["steps"]]
    for step in plan["steps"]:
        assert step["reason"] in page.html
    assert "26 steps, in the order they run." in squash(page.one("section", **{"aria-labelledby": "plan-h"}).text)


def test_steps_show_their_change_dependencies_and_disruption(ui: UI) -> None:
    page = Page(ui.client.get(f"/runs/{ui.run_ids[1]}").text)
    plan = squash(page.one("section", **{"aria-labelledby": "plan-h"}).text)
    assert "5 steps, 3 disruptive" in plan
    reboot = next(e for e in page.all("tr") if "vm/301/reboot" in e.text and "reboot_vm" in e.text)
    assert "disruptive" in squash(reboot.text) and "vm/301/update" in reboot.text
    assert reboot.attrs["class"] == "change-change"
    drain = next(e for e in page.all("tr") if "drain_node" in e.text)
    assert drain.attrs["class"] == "change-drain" and " drain " in f" {squash(drain.text)} "
    assert page.texts("ul", **{"class": "conflicts"}) == [
        "VMID 305 (wanted for talos-worker-03) is held by VM 'scratch' which the runner does not manage;"
        " it will not be touched"
    ]
    assert "set allowDestroy: true to delete it" in plan
    assert plan_tables(page) == ["Steps in execution order: 5"]


def test_executed_steps_carry_their_outcome_into_the_plan(ui: UI) -> None:
    page = Page(ui.client.get(f"/runs/{ui.run_ids[0]}").text)
    outcomes = [squash(e.text) for e in page.all("tr") if e.attrs.get("class", "").startswith("change-")]
    assert len(outcomes) == 26 and all(o.endswith("succeeded") for o in outcomes)


def test_a_failed_run_shows_its_error_and_escapes_log_lines(ui: UI) -> None:
    response = ui.client.get(f"/runs/{ui.run_ids[2]}")
    page = Page(response.text)
    error = squash(page.one("section", **{"aria-labelledby": "error-h"}).text)
    assert "talosctl apply-config: connection refused (10.1.0.11:50000)" in error
    assert "<script>alert" not in response.text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in response.text
    assert [s.attrs["src"] for s in page.all("script")] == ["/ui/static/live.js"]
    assert "This run recorded no plan" in response.text
    step_rows = page.texts("th", scope="row")
    assert "node/edge-cp-01/config" in step_rows


def test_a_finished_run_is_not_refreshed(ui: UI) -> None:
    page = Page(ui.client.get(f"/runs/{ui.run_ids[0]}").text)
    progress = page.one("section", id="progress")
    assert "data-live-src" not in progress.attrs
    assert "http-equiv" not in page.html
    assert "Finished success with 26 steps." in squash(progress.text)


def test_a_running_run_refreshes_its_progress_until_it_finishes(ui: UI) -> None:
    run_id = ui.run_ids[5]
    page = Page(ui.client.get(f"/runs/{run_id}").text)
    progress = page.one("section", id="progress")
    assert progress.attrs["data-live-src"] == f"/runs/{run_id}/live"
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.html  # the no-script fallback
    assert "Running: 1 of 2 started steps finished." in squash(progress.text)
    assert "The plan is recorded when the run finishes" in page.html

    journal = ui.service.journal
    journal.finish_step(run_id, "vm/301/reboot", "succeeded", "rebooted")
    journal.start_step(run_id, "node/talos-cp-02/upgrade", "upgrade_talos")
    journal.log(run_id, "upgrading talos-cp-02")
    live = Page(ui.client.get(f"/runs/{run_id}/live").text)
    assert live.elements[0].attrs["data-live-src"] == f"/runs/{run_id}/live"
    assert "Running: 2 of 3 started steps finished." in squash(live.elements[0].text)
    assert "upgrading talos-cp-02" in live.html and not live.all("html")

    plan = (DATA / "plan_upgrade.json").read_text()
    journal.finish_step(run_id, "node/talos-cp-02/upgrade", "succeeded")
    journal.finish_run(run_id, result="success", summary="applied 3 steps", plan_json=plan)
    done = Page(ui.client.get(f"/runs/{run_id}/live").text)
    assert "data-live-src" not in done.elements[0].attrs
    assert done.elements[0].attrs["data-live-done"] == "reload"  # the script reloads once to show the plan
    final = Page(ui.client.get(f"/runs/{run_id}").text)
    assert plan_tables(final) == ["Steps in execution order: 5"] and "http-equiv" not in final.html


def test_an_unknown_run_is_a_404_page(ui: UI) -> None:
    response = ui.client.get("/runs/4242")
    assert response.status_code == 404 and "There is no run 4242." in response.text
    assert ui.client.get("/runs/4242/live").status_code == 404


def test_a_run_without_plan_json_falls_back_to_its_markdown(ui: UI) -> None:
    journal = ui.service.journal
    run_id = journal.start_run(RunRequest("home", "a" * 40, "refs/heads/main", "push", "apply", "lab/home"))
    journal.finish_run(
        run_id, result="success", summary="ok", plan_markdown="### Plan for cluster `home`\n\n**2 steps**"
    )
    page = Page(ui.client.get(f"/runs/{run_id}").text)
    assert page.texts("pre", **{"class": "markdown"}) == ["### Plan for cluster `home` **2 steps**"]


def test_the_plan_lists_steps_in_execution_order_so_a_drain_comes_before_the_update_it_precedes(ui: UI) -> None:
    journal = ui.service.journal
    run_id = journal.start_run(RunRequest("home", "b" * 40, "refs/heads/main", "push", "apply", "lab/home"))
    plan = (DATA / "plan_resize.json").read_text()  # the real planner's: more memory for talos-worker-01
    journal.finish_run(run_id, result="success", summary="applied 3 steps", plan_json=plan)
    page = Page(ui.client.get(f"/runs/{run_id}").text)
    rows = [e for e in page.all("tr") if e.attrs.get("class", "").startswith("change-")]
    assert [squash(r.text).split()[:4] for r in rows] == [
        ["1", "»", "drain", "drain_node"],
        ["2", "~", "change", "update_vm"],
        ["3", "«", "uncordon", "uncordon_node"],
    ]
    assert [" kubernetes " in f" {squash(r.text)} " for r in rows] == [True, False, True]  # each row names its phase
    legend = squash(page.one("p", **{"class": "legend"}).text)
    assert "drains a node" in legend and "lets pods back" in legend
    assert "- removes" in legend and rows[0].attrs["class"] == "change-drain"  # a drain is not a removal
