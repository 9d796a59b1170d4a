"""The Jinja2 environment of the UI: autoescaped templates, formatting filters, HTML responses with a strict CSP."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from runner.server.ui.fmt import fmt_duration, fmt_time, iso_time, run_outcome, short_sha

HERE = Path(__file__).parent

# Only our own files: no inline script or style, so injected markup could not run even if escaping failed.
CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

NAV = (("/", "Clusters"), ("/runs", "Runs"), ("/prs", "PR plans"), ("/backups", "Backups"))


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,  # a template typo fails the tests instead of rendering an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(time=fmt_time, iso=iso_time, short=short_sha, outcome=run_outcome)
    env.globals.update(nav=NAV, duration=fmt_duration, now=time.time)
    return env


ENV = make_environment()


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = ENV.get_template(name).render(**context)
    return HTMLResponse(
        html, status_code=status_code, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"}
    )
