"""JSON Schema of cluster.yaml, generated from the models (checked in under schemas/)."""

from __future__ import annotations

import json
from typing import Any

from runner.core.spec import Cluster

SCHEMA_PATH = "schemas/cluster.schema.json"


def cluster_schema() -> dict[str, Any]:
    schema = Cluster.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "cluster.schema.json"
    schema["title"] = "Runner cluster spec (clusters/<name>/cluster.yaml)"
    return schema


def cluster_schema_text() -> str:
    return json.dumps(cluster_schema(), indent=2, sort_keys=True) + "\n"
