"""The operator's commands: init, rotate, doctor, backup and restore, watch, key separation checks.

Each uses the one-reconcile path (`runner.engine.reconcile`) and, where it checks the service, its settings.
"""
