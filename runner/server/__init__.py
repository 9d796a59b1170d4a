"""The runner as a service: webhooks, JSON API, metrics and probes over the engine's queue and journal."""

from runner.server.app import create_app

__all__ = ["create_app"]
