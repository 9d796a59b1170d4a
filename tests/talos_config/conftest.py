"""Session fixtures: the committed fixture bundle (read, instant) and one freshly generated bundle."""

from __future__ import annotations

import pytest
from talos_testdata import GENERATED_AT, fixture_bundle

from runner.core.talos import SecretsBundle, generate_bundle


@pytest.fixture(scope="session")
def bundle() -> SecretsBundle:
    """The same bundle on every run and machine (tests/data/talos-secrets-bundle.yaml)."""
    return fixture_bundle()


@pytest.fixture(scope="session")
def fresh_bundle() -> SecretsBundle:
    """What `runner init` makes now (RSA 4096 is the slow part, so once per session)."""
    return generate_bundle(GENERATED_AT)


@pytest.fixture(params=["fixture", "fresh"])
def any_bundle(request: pytest.FixtureRequest) -> SecretsBundle:
    """Both: the generator's properties must hold for today's output and for the committed file."""
    return request.getfixturevalue("bundle" if request.param == "fixture" else "fresh_bundle")  # type: ignore[no-any-return]
