"""Adoption of a running cluster built without the runner: pure comparison, verdicts and the report's digest."""

from runner.core.adoption.assess import LiveEtcd, LiveNode, Wanted, assess
from runner.core.adoption.helm import LiveRelease, WantedRelease, decode_release, wanted_release
from runner.core.adoption.render import render_markdown, render_text
from runner.core.adoption.report import AdoptionReport, NodeReport, ReleaseReport

__all__ = [
    "AdoptionReport",
    "LiveEtcd",
    "LiveNode",
    "LiveRelease",
    "NodeReport",
    "ReleaseReport",
    "Wanted",
    "WantedRelease",
    "assess",
    "decode_release",
    "render_markdown",
    "render_text",
    "wanted_release",
]
