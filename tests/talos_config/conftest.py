"""Session fixtures: one generated bundle per session (RSA 4096 is the slow part)."""

from __future__ import annotations

import random

import pytest
from talos_testdata import GENERATED_AT, SEED

from runner.core.talos import SecretsBundle, generate_bundle


@pytest.fixture(scope="session")
def bundle() -> SecretsBundle:
    return generate_bundle(GENERATED_AT)


@pytest.fixture(scope="session")
def seeded_bundle() -> SecretsBundle:
    """Reproducible bundle; drawing its RSA primes in Python takes a few seconds, so only once."""
    return generate_bundle(GENERATED_AT, random.Random(SEED))
