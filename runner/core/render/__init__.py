"""Plan renderers: terminal (rich), markdown (PR comments), JSON. All deterministic."""

from runner.core.render.json import render_json
from runner.core.render.markdown import render_markdown
from runner.core.render.terminal import render_terminal

__all__ = ["render_json", "render_markdown", "render_terminal"]
