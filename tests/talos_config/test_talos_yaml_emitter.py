"""The fast YAML emitter for machine configs: every reader gets back exactly the values written, and a rendered
config is the same whether its parts are computed one by one or in one pass."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from talos_testdata import LATEST_PATCHES, REFERENCE_NODES, nodes_at
from test_talos_config_determinism import node_inputs

from runner.core.talos import (
    config_hash,
    machine_config,
    redacted,
    render_config,
    render_documents,
    secret_strings,
)
from runner.core.talos.yamlio import dump_documents, dump_documents_fast, load_documents

# Strings a YAML reader might take for something else, next to arbitrary text (any code point but surrogates).
tricky = st.sampled_from(
    [
        "",
        "~",
        "null",
        "NULL",
        "yes",
        "No",
        "on",
        "OFF",
        "y",
        "n",
        "true",
        "1",
        "-1",
        "+1",
        "1.5",
        "1e3",
        "1_000",
        "0x1F",
        "0o17",
        "0b1",
        ".inf",
        "-.inf",
        ".nan",
        "1:30",
        "2001-12-14",
        "10.0.0.1",
        "a:",
        "a: b",
        "- a",
        "#x",
        "x #y",
        "&a",
        "*a",
        "!t",
        "|",
        ">",
        "@x",
        "`x",
        "%x",
        "'q'",
        '"q"',
        "{}",
        "[]",
        "<<",
        "=",
        "?",
        ":",
        "a\nb",
        " lead",
        "trail ",
        "tab\tx",
        "é",
        "😀",
        "\x85",
        "\u2028",
        "\ufeff",
        "\x00",
        "https://h:6443",
        "v1.32.1",
    ]
)
scalars = st.one_of(tricky, st.text(max_size=20), st.integers(), st.booleans(), st.none())
keys = st.one_of(tricky, st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=25,
)
documents = st.lists(st.dictionaries(keys, values, max_size=6), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(docs=documents)
def test_every_reader_gets_back_exactly_what_was_written(docs: list[dict[str, Any]]) -> None:
    text = dump_documents_fast(docs)
    assert load_documents(text) == [d for d in docs]  # ruamel, YAML 1.2 (what the runner reads back)
    assert list(yaml.safe_load_all(text)) == docs  # PyYAML, YAML 1.1 (the strictest about bools and numbers)


def test_a_config_has_the_layout_of_talos_and_only_quotes_where_a_reader_could_misread(bundle) -> None:
    text = render_documents(machine_config(REFERENCE_NODES[0], bundle))
    assert '\n    certSANs:\n        - "10.0.0.20"\n' in text
    assert "\n    network:\n        hostname: talos-cp-01\n        interfaces:\n            - interface: eth0\n" in text
    assert '\n        key: ""\n' not in text  # a controller carries its CA keys
    assert "\n            image: ghcr.io/siderolabs/kubelet:v1.32.1\n" not in text
    assert load_documents(text) == load_documents(dump_documents(load_documents(text)))  # same values as ruamel's


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(node=node_inputs())
def test_one_pass_gives_what_each_function_gives(bundle, node) -> None:
    docs = machine_config(node, bundle)
    done = render_config(docs)
    assert (done.text, done.hash, set(done.secrets), done.redacted) == (
        render_documents(docs),
        config_hash(docs),
        secret_strings(docs),
        redacted(docs),
    )


def test_one_pass_gives_what_each_function_gives_for_every_reference_config(bundle) -> None:
    for version in LATEST_PATCHES:
        for node in nodes_at(version):
            docs = machine_config(node, bundle)
            done = render_config(docs)
            assert config_hash(load_documents(done.text)) == done.hash == config_hash(docs)
            assert set(done.secrets) == secret_strings(docs) and done.redacted == redacted(docs)
