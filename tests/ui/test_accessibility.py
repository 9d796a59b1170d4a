"""Accessible by construction: semantic structure on every page, labelled controls, focus ring, AA contrast."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from runner.server import ui as ui_package
from tests.ui.conftest import UI
from tests.ui.uikit import Page, squash

CSS = Path(ui_package.__file__).parent / "static" / "ui.css"
PAGES = ["/", "/runs", "/runs?mode=plan", "/prs", "/runs/{0}", "/runs/{1}", "/runs/{2}", "/runs/{5}", "/runs/4242"]
PAGES += ["/backups"]


def palette() -> dict[str, str]:
    root = re.search(r":root\s*{(.*?)}", CSS.read_text(), re.S)
    assert root, "ui.css declares its palette in :root"
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", root.group(1)))


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_formula_matches_known_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic just-failing grey


def test_every_text_colour_meets_wcag_aa_on_its_background() -> None:
    colours = palette()
    text_pairs = [("fg", "bg"), ("fg", "surface"), ("muted-text", "bg"), ("muted-text", "surface"), ("link", "bg")]
    text_pairs += [("link", "surface"), ("bg", "link")]  # links in the header bar; the button's label
    tones = sorted(name[: -len("-fg")] for name in colours if name.endswith("-fg") and name != "fg")
    assert tones == ["fail", "muted", "ok", "run", "warn"]
    text_pairs += [(f"{t}-fg", f"{t}-bg") for t in tones]
    for fg, bg in text_pairs:
        assert contrast(colours[fg], colours[bg]) >= 4.5, f"--{fg} on --{bg}"
    assert contrast(colours["focus"], colours["bg"]) >= 3.0  # non-text contrast of the focus ring
    assert contrast(colours["focus"], colours["surface"]) >= 3.0


def test_keyboard_focus_is_always_visible() -> None:
    css = CSS.read_text()
    assert re.search(r":focus-visible\s*{[^}]*outline:\s*3px solid var\(--focus\)", css)
    assert "outline: none" not in css.replace("main:focus { outline: none; }", "")  # only the skip target


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_landmarks_headings_and_labelled_tables_and_controls(ui: UI, path: str) -> None:
    response = ui.client.get(path.format(*ui.run_ids))
    page = Page(response.text)
    assert page.one("html").attrs["lang"] == "en"
    assert page.one("main").attrs["id"] == "main" and page.all("a", href="#main")
    assert page.one("nav").attrs["aria-label"] == "Main"
    assert len(page.all("h1")) == 1
    levels = [int(e.tag[1]) for e in page.elements if re.fullmatch(r"h[1-6]", e.tag)]
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), f"skipped heading level: {levels}"
    assert all(th.attrs.get("scope") in ("col", "row") for th in page.all("th"))
    assert len(page.all("caption")) == len(page.all("table"))
    labels = {e.attrs.get("for") for e in page.all("label")}
    for control in page.all("input") + page.all("select"):
        assert control.attrs.get("id") in labels, f"unlabelled control {control.attrs}"
    assert all(badge for badge in page.badges()), "a badge must say its status in words"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_current_page_is_marked_in_the_navigation(ui: UI) -> None:
    for path, label in (("/", "Clusters"), ("/runs", "Runs"), ("/prs", "PR plans"), ("/backups", "Backups")):
        current = Page(ui.client.get(path).text).all("a", **{"aria-current": "page"})
        assert [squash(e.text) for e in current] == [label]


def test_static_files_are_served_from_a_fixed_list(ui: UI) -> None:
    css = ui.client.get("/ui/static/ui.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = ui.client.get("/ui/static/live.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    for name in ("../routes.py", "..%2Froutes.py", "missing.css"):
        assert ui.client.get(f"/ui/static/{name}").status_code == 404
