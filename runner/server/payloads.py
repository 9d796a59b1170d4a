"""Webhook bodies -> typed events: bounded JSON, then pydantic models of exactly the fields the runner reads.

Anything a signed sender can put in a body ends as a value or as `BadPayload` with a message that says
which field is wrong (a 400), never as an exception the server did not expect (a 500): JSON nesting is
bounded, numbers too long to parse are refused by the json module, and every field is typed.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_DEPTH = 64  # real payloads nest < 10 levels; the bound keeps the parse and the walk cheap
SHA = r"^[0-9a-fA-F]{40}([0-9a-fA-F]{24})?$"  # SHA-1 or SHA-256 object names
MAX_NUMBER = 2**31 - 1  # PR numbers: far above any real one, and always within SQLite's INTEGER


class BadPayload(ValueError):
    """The body is not a payload the runner can read; the message says why (safe to send back)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Repository(_Model):
    full_name: str = ""
    clone_url: str = ""
    ssh_url: str = ""
    html_url: str = ""
    git_url: str = ""
    url: str = ""

    def urls(self) -> set[str]:
        return {u for u in (self.clone_url, self.ssh_url, self.html_url, self.git_url, self.url) if u}


class Envelope(_Model):
    """What every repository event shares: which repository it is about (None for org/app events)."""

    repository: Repository | None = None


class PushCommit(_Model):
    added: list[str] = []
    modified: list[str] = []
    removed: list[str] = []


class PushEvent(Envelope):
    ref: str
    after: str = Field(pattern=SHA)
    deleted: bool = False
    commits: list[PushCommit] | None = None


class PullRef(_Model):
    ref: str
    sha: str = Field("", pattern=r"^$|" + SHA)
    repo: Repository | None = None


class PullRequest(_Model):
    number: int | None = Field(None, ge=0, le=MAX_NUMBER)
    merged: bool | None = None
    head: PullRef
    base: PullRef


class PullRequestEvent(Envelope):
    action: str
    number: int | None = Field(None, ge=0, le=MAX_NUMBER)
    pull_request: PullRequest


class GenericEvent(_Model):
    """The generic hook: {"ref"?: branch, "commit"?: sha, "cluster"?: name, "mode"?: apply|plan, "repo"?: o/n}."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: str | None = None
    commit: str | None = Field(None, pattern=r"^$|" + SHA)
    cluster: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
    mode: Literal["apply", "plan"] = "apply"
    repo: str | None = None


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, iteratively (the parse already bounded it by the recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def parse_object(raw: bytes, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The body as a JSON object, or BadPayload saying what is wrong with it."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BadPayload(f"JSON nested deeper than {max_depth} levels") from None
    except UnicodeDecodeError:
        raise BadPayload("body is not UTF-8 text") from None
    except ValueError as exc:  # JSONDecodeError, and integers longer than Python will parse
        raise BadPayload(f"body is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise BadPayload(f"body is a JSON {type(value).__name__}, not an object")
    if _depth(value) > max_depth:
        raise BadPayload(f"JSON nested deeper than {max_depth} levels")
    return value


def describe(exc: ValidationError) -> str:
    """`pull_request.head.sha: Field required; ...`: the fields a 400 names."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


M = TypeVar("M", bound=BaseModel)


def typed(model: type[M], payload: dict[str, Any], what: str) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise BadPayload(f"{what} payload: {describe(exc)}") from None
