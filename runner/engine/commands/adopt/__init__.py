"""`runner adopt`: take a running cluster built without the runner under it, without a reboot or a bootstrap."""

from runner.engine.commands.adopt.run import adopt_apply, adoption_report

__all__ = ["adopt_apply", "adoption_report"]
