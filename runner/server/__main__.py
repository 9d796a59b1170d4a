"""`python -m runner.server`: settings from RUNNER_* / a TOML file, the app, uvicorn.

The reconcile a run performs is named by `--run-fn module:attribute` (or RUNNER_RUN_FN); the
default is the engine's reconcile. `runner.server.inspect_run:inspect_run` serves without touching
any infrastructure.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

import uvicorn

from runner.core.errors import Permanent
from runner.engine.service.run_context import RunFn
from runner.engine.service.settings import load_settings
from runner.server.app import create_app, engine_run_fn


def load_run_fn(spec: str) -> RunFn:
    module_name, _, attribute = spec.partition(":")
    try:
        run_fn: RunFn = getattr(importlib.import_module(module_name), attribute or "run_fn")
    except (ImportError, AttributeError) as exc:
        raise Permanent(f"--run-fn {spec}: cannot load it ({exc})") from None
    return run_fn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.server", description="Serve the runner's webhooks and API")
    parser.add_argument("--config", type=Path, help="TOML settings file (RUNNER_* variables win over it)")
    parser.add_argument(
        "--run-fn", default=os.environ.get("RUNNER_RUN_FN"), help="module:attribute (default: the engine's reconcile)"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
        run_fn = load_run_fn(args.run_fn) if args.run_fn else engine_run_fn(settings)
        app = create_app(settings, run_fn)
    except Permanent as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
