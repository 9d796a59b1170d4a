"""Plan renderers: terminal (rich, in `runner.core.render.terminal`), markdown (PR comments), JSON.

The terminal renderer is imported from its module by the CLI only: the service never needs rich.
"""

from runner.core.render.json import render_json
from runner.core.render.markdown import render_markdown

__all__ = ["render_json", "render_markdown"]
