"""One reconcile: fetch a source, load and decrypt it, observe the systems, plan, execute the steps.

Nothing here knows about queues, webhooks or operator commands; `service` and `commands` build on it.
"""
