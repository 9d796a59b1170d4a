"""The runs list with its filters (plain GET forms) and the PR plans page (newest plan per pull request)."""

from __future__ import annotations

import pytest

from runner.engine.service.queue import RunRequest
from tests.ui.conftest import UI
from tests.ui.uikit import Page


def listed(ui: UI, query: str = "") -> list[int]:
    page = Page(ui.client.get("/runs" + query).text)
    return [
        int(e.attrs["href"].rsplit("/", 1)[1]) for e in page.all("a") if e.attrs.get("href", "").startswith("/runs/")
    ]


def test_runs_are_listed_newest_first_with_their_columns(ui: UI) -> None:
    assert listed(ui) == list(reversed(ui.run_ids))
    page = Page(ui.client.get("/runs").text)
    headers = page.texts("th", scope="col")
    assert headers == ["Run", "Cluster", "Trigger", "Mode", "Commit", "Ref", "PR", "Result", "Started", "Duration"]
    assert "running" in page.badges() and "failure" in page.badges()
    assert "#7" in page.texts("td") and "refs/pull/9/head" in page.texts("code")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?mode=plan", [4, 3, 1]),
        ("?pr=7", [3, 1]),
        ("?result=failure", [3, 2]),
        ("?cluster=edge", [2]),
        ("?trigger=manual", [5]),
        ("?cluster=home&mode=apply&result=success", [0]),
        ("?cluster=&mode=&result=&trigger=&pr=&limit=", [5, 4, 3, 2, 1, 0]),  # an untouched form submits blanks
        ("?limit=2", [5, 4]),
    ],
)
def test_filters_narrow_the_list(ui: UI, query: str, expected: list[int]) -> None:
    assert listed(ui, query) == [ui.run_ids[i] for i in expected]


def test_the_filter_form_keeps_what_was_chosen(ui: UI) -> None:
    page = Page(ui.client.get("/runs?mode=plan&pr=7").text)
    selected = [e for e in page.all("option") if "selected" in e.attrs]
    assert [e.attrs["value"] for e in selected] == ["plan"]
    assert page.one("input", id="f-pr").attrs["value"] == "7"


def test_a_malformed_filter_is_a_readable_400_page(ui: UI) -> None:
    response = ui.client.get("/runs?pr=seven")
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert "pr must be a whole number, not &#39;seven&#39;" in response.text


def test_no_matching_runs_says_so(ui: UI) -> None:
    assert "No runs match these filters." in ui.client.get("/runs?cluster=nowhere").text


def test_pr_plans_show_the_newest_plan_of_each_pull_request(ui: UI) -> None:
    page = Page(ui.client.get("/prs").text)
    assert page.texts("th", scope="row") == ["#9", "#7"]
    links = [e.attrs["href"] for e in page.all("a") if e.attrs.get("href", "").startswith("/runs/")]
    assert links == [f"/runs/{ui.run_ids[4]}", f"/runs/{ui.run_ids[3]}"]  # PR 7's older plan (run_ids[1]) is hidden
    cells = page.texts("td")
    assert "0 steps" in cells and "failure" in cells and "plan failed" in cells


def test_pr_plans_summarise_steps_disruption_and_conflicts(ui: UI) -> None:
    newer = ui.service.journal.start_run(
        RunRequest("home", "e" * 40, "refs/pull/7/head", "pull_request", "plan", "lab/home", pr_number=7)
    )
    plan = ui.service.journal.run(ui.run_ids[1])["plan_json"]  # type: ignore[index]
    ui.service.journal.finish_run(newer, result="success", summary="plan: 5 steps", plan_json=plan)
    page = Page(ui.client.get("/prs").text)
    assert "5 steps, 3 disruptive, 1 conflicts" in page.texts("td")
    assert page.all("a", href=f"/runs/{newer}")


def test_apply_runs_never_appear_among_pr_plans(ui: UI) -> None:
    html = ui.client.get("/prs").text
    for index in (0, 2, 5):
        assert f'href="/runs/{ui.run_ids[index]}"' not in html
