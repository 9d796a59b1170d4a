"""The long-running service: durable queue, run journal, forge outbox, notifications and the worker.

It turns events into reconciles (`runner.engine.reconcile`) one cluster at a time and records what happened.
"""
