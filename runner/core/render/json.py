from __future__ import annotations

import json

from runner.core.steps import Plan


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_json(), indent=2, sort_keys=True)
