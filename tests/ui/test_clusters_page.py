"""The clusters overview: nodes with their state in words, endpoint, Flux, hand-off, last run; live while busy."""

from __future__ import annotations

from runner.engine.service.queue import RunRequest
from tests.ui.conftest import UI
from tests.ui.uikit import Page, squash


def rows_of(page: Page, caption: str) -> list[list[str]]:
    """The body rows of the table with this caption, as cell texts (the row header first)."""
    html = page.html
    start = html.index(f"<caption>{caption}</caption>")
    table = Page(html[start : html.index("</table>", start)])
    rows: list[list[str]] = []
    current: list[str] = []
    for element in table.elements:
        if element.tag == "tr":
            if current:
                rows.append(current)
            current = []
        elif element.tag in ("td", "th") and element.attrs.get("scope") != "col":
            current.append(squash(element.text))
    if current:
        rows.append(current)
    return rows


def test_every_node_of_a_converged_cluster_reads_ready(ui: UI) -> None:
    page = Page(ui.client.get("/").text)
    rows = rows_of(page, "Nodes of home")
    assert [r[0] for r in rows] == ["talos-cp-01", "talos-cp-02", "talos-cp-03", "talos-worker-01", "talos-worker-02"]
    assert all(r[-1] == "Ready" for r in rows)
    cp1 = rows[0]
    assert cp1[1:5] == ["controlplane", "10.0.0.11", "300", "running"]
    assert cp1[6] == "running, v1.11.2" and cp1[7] == "v1.32.1"


def test_nodes_that_are_not_ready_say_why_in_words(ui: UI) -> None:
    rows = {r[0]: r[-1] for r in rows_of(Page(ui.client.get("/").text), "Nodes of edge")}
    assert rows == {
        "edge-cp-01": "Talos maintenance",
        "edge-worker-01": "Out of sync",
        "edge-worker-02": "VM stopped",
        "edge-worker-03": "Missing",
    }


def test_cluster_facts_show_endpoint_flux_handoff_and_last_run(ui: UI) -> None:
    page = Page(ui.client.get("/").text)
    home = squash(page.one("section", **{"aria-labelledby": "cluster-home"}).text)
    assert "Endpoint https://10.0.0.20:6443" in home
    assert "Flux v2.3.0, Kustomizations Ready" in home
    assert "Hand-off recorded (Flux owns in-cluster objects)" in home
    assert "Nodes ready 5 of 5" in home
    assert "Last applied commit 1ffc43522b3b" in home
    latest_home = ui.run_ids[5]  # the running manual apply
    assert f"run {latest_home} running apply of dddd1111bbbb" in home
    assert page.all("a", href=f"/runs/{latest_home}")

    edge = squash(page.one("section", **{"aria-labelledby": "cluster-edge"}).text)
    assert "Flux not installed" in edge and "Hand-off not yet" in edge and "Bootstrapped no" in edge
    assert "failure apply of 999988887777" in edge
    assert "drift on VM 411 edge-worker-01: memory 4096 -> 2048 MiB" in edge
    assert "disks only grow" in edge
    assert "1 step pending" in edge


def test_a_cluster_known_only_from_the_journal_is_listed_without_a_node_table(ui: UI) -> None:
    run_id = ui.service.journal.start_run(RunRequest("lab2", "f" * 40, "refs/heads/main", "push", "apply", "lab/home"))
    ui.service.journal.finish_run(run_id, result="failure", summary="failed", error="boom")
    section = squash(Page(ui.client.get("/").text).one("section", **{"aria-labelledby": "cluster-lab2"}).text)
    assert "Not observed yet" in section
    assert "Nodes of lab2" not in section


def test_overview_refreshes_only_while_a_run_is_going(ui: UI) -> None:
    busy = Page(ui.client.get("/").text)
    assert busy.one("div", id="clusters").attrs.get("data-live-src") == "/ui/fragments/clusters"
    assert '<noscript><meta http-equiv="refresh"' in busy.html

    fragment = Page(ui.client.get("/ui/fragments/clusters").text)
    assert fragment.elements[0].tag == "div" and fragment.elements[0].attrs["id"] == "clusters"
    assert not fragment.all("html") and not fragment.all("nav")

    ui.service.journal.finish_run(ui.run_ids[5], result="success", summary="done")
    idle = Page(ui.client.get("/").text)
    assert "data-live-src" not in idle.one("div", id="clusters").attrs
    assert "http-equiv" not in idle.html


def test_an_empty_service_explains_how_to_start(ui: UI) -> None:
    ui.service.db.execute("DELETE FROM runs")
    ui.service.db.execute("DELETE FROM cluster_state")
    text = squash(Page(ui.client.get("/").text).one("main").text)
    assert "No cluster has been reconciled yet" in text
