"""The forge twin's own small web pages: its pull requests, each with its comments and commit statuses."""

from __future__ import annotations

from html import escape

from runner.lab.forge.pulls import Pull
from runner.lab.forge.state import ForgeState

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "pre{white-space:pre-wrap;background:#f6f8fa;padding:1rem;border-radius:6px}"
    ".success{color:#1a7f37}.failure,.error{color:#cf222e}.pending{color:#9a6700}"
    "table{border-collapse:collapse}td,th{padding:.25rem .75rem;text-align:left}"
)


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def pulls_page(state: ForgeState, repo: str) -> str:
    rows = "".join(
        f'<tr><td><a href="/{escape(p.repo)}/pulls/{p.number}">#{p.number}</a></td><td>{escape(p.title)}</td>'
        f"<td>{escape(p.head)} → {escape(p.base)}</td><td>{'merged' if p.merged else p.state}</td></tr>"
        for p in sorted(state.pulls.by_number.values(), key=lambda p: p.number)
        if p.repo.lower() == repo.lower()
    )
    table = f"<table><tr><th>PR</th><th>title</th><th>branch</th><th>state</th></tr>{rows}</table>"
    return _page(
        f"{repo}: pull requests", f"<h1>{escape(repo)}: pull requests</h1>{table if rows else '<p>none yet</p>'}"
    )


def pull_page(state: ForgeState, pull: Pull) -> str:
    latest: dict[str, tuple[str, str, str]] = {}
    for status in state.statuses_for(pull.repo, pull.sha):
        latest[status.context] = (status.state, status.description, status.target_url)
    statuses = "".join(
        f'<tr><td>{escape(context)}</td><td class="{escape(st)}">{escape(st)}</td><td>{escape(desc)}</td>'
        f"<td>{f'<a href={chr(34)}{escape(url)}{chr(34)}>run</a>' if url else ''}</td></tr>"
        for context, (st, desc, url) in sorted(latest.items())
    )
    comments = "".join(
        f"<article><h3>{escape(c.user)} <small>{escape(c.updated_at)}"
        f"{' (edited)' if c.edits else ''}</small></h3><pre>{escape(c.body)}</pre></article>"
        for c in state.comments_on(pull.repo, pull.number)
    )
    state_line = f"merged as {pull.merge_sha[:12]}" if pull.merged else pull.state
    body = (
        f"<h1>#{pull.number} {escape(pull.title)}</h1>"
        f"<p>{escape(pull.head)} → {escape(pull.base)} · head <code>{pull.sha[:12]}</code> · {escape(state_line)}</p>"
        f"<h2>Statuses</h2>{f'<table>{statuses}</table>' if statuses else '<p>none yet</p>'}"
        f"<h2>Comments</h2>{comments or '<p>none yet</p>'}"
    )
    return _page(f"#{pull.number} {pull.title}", body)
