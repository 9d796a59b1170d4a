"""Vendored upstream artefacts (schemas), plain data with no logic: the runner and the lab's twins both read them.

One copy each, so the product and the twin that checks it can never drift apart on what upstream said.
"""
