"""The web UI of `runner serve`: clusters overview, runs, run detail with the plan and a live log, PR plans."""

from runner.server.ui.routes import router

__all__ = ["router"]
