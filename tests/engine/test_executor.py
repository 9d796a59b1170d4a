"""The executor respects dependencies, runs independent steps at once, retries Transient, stops on Permanent."""

from __future__ import annotations

import threading
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.core.errors import Permanent, Transient
from runner.core.steps import Kind, Plan, Step
from runner.engine.reconcile.executor import RetryPolicy, execute
from tests.planner.scenario import run_scenario

FAST = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.002)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.lines: list[str] = []
        self.lock = threading.Lock()

    def step_started(self, step: Step) -> None:
        with self.lock:
            self.events.append(("start", step.id))

    def step_finished(self, step: Step, status: str, message: str, seconds: float) -> None:
        with self.lock:
            self.events.append((status, step.id))

    def log(self, message: str) -> None:
        self.lines.append(message)


def step(i: str, *deps: str) -> Step:
    return Step(i, Kind.CREATE_VM, f"vm/{i}", f"create {i}", tuple(deps))


class Overlap:
    """A handler that holds each step for `hold` seconds, counting the most steps in flight at once."""

    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.active = 0
        self.peak = 0
        self.finished: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, s: Step) -> str:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        time.sleep(self.hold)
        with self.lock:
            self.active -= 1
            self.finished.append(s.id)
        return "ok"


def test_dependent_steps_wait_and_independent_ones_overlap() -> None:
    plan = Plan("c", (step("a"), step("b"), step("c"), step("d", "a", "b", "c")))
    handler = Overlap(hold=0.05)
    result = execute(plan, handler, Recorder(), max_parallel=5, policy=FAST)
    assert result.ok
    assert handler.peak == 3  # a, b, c together; d alone after
    assert handler.finished[-1] == "d"


def test_parallelism_is_bounded() -> None:
    plan = Plan("c", tuple(step(str(i)) for i in range(6)))
    handler = Overlap(hold=0.02)
    assert execute(plan, handler, Recorder(), max_parallel=2, policy=FAST).ok
    assert handler.peak == 2


def test_transient_errors_are_retried_until_they_pass() -> None:
    calls = {"n": 0}

    def handler(s: Step) -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise Transient("HTTP 503")
        return "ok"

    rec = Recorder()
    result = execute(Plan("c", (step("a"),)), handler, rec, policy=FAST)
    assert result.ok and calls["n"] == 3
    assert len(rec.lines) == 2 and "HTTP 503" in rec.lines[0]


def test_transient_errors_give_up_after_the_policy_and_say_so() -> None:
    def handler(s: Step) -> str:
        raise Transient("connection refused")

    result = execute(Plan("c", (step("a"),)), handler, Recorder(), policy=FAST)
    assert not result.ok and result.failed_step == "a"
    assert "4 attempts" in (result.error or "") and "connection refused" in (result.error or "")


def test_permanent_error_stops_new_steps_and_leaves_the_rest_untouched() -> None:
    plan = Plan("c", (step("a"), step("b", "a"), step("c", "b")))
    ran: list[str] = []

    def handler(s: Step) -> None:
        ran.append(s.id)
        if s.id == "a":
            raise Permanent("bad parameter net0")

    result = execute(plan, handler, Recorder(), policy=FAST)
    assert ran == ["a"]
    assert result.statuses == {"a": "failed", "b": "skipped", "c": "skipped"}
    assert result.error == "bad parameter net0"


def test_cancel_leaves_unstarted_steps() -> None:
    cancel = threading.Event()
    plan = Plan("c", (step("a"), step("b", "a")))

    def handler(s: Step) -> None:
        cancel.set()

    result = execute(plan, handler, Recorder(), policy=FAST, cancel=cancel)
    assert result.statuses == {"a": "done", "b": "skipped"}
    assert not result.ok


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sets(st.integers(0, 11), max_size=3), min_size=1, max_size=12))
def test_no_step_starts_before_everything_it_depends_on_finished(dep_sets: list[set[int]]) -> None:
    steps = [step(str(i), *(str(d) for d in sorted(deps) if d < i)) for i, deps in enumerate(dep_sets)]
    rec = Recorder()
    result = execute(Plan("c", tuple(steps)), lambda s: None, rec, max_parallel=4, policy=FAST)
    assert result.ok
    position = {(kind, sid): i for i, (kind, sid) in enumerate(rec.events)}
    for s in steps:
        for d in s.depends_on:
            assert position[("done", d)] < position[("start", s.id)]


class Cordons:
    """A handler that keeps Kubernetes' cordons as the drain, uncordon and Node-deletion steps leave them, and
    the most nodes it ever saw cordoned at once. Each step is held briefly, so what may overlap does overlap."""

    def __init__(self) -> None:
        self.cordoned: set[str] = set()
        self.most: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, s: Step) -> str:
        node = str(s.params.get("node_name"))
        with self.lock:
            if s.kind is Kind.DRAIN_NODE:
                self.cordoned.add(node)
                self.most = max(self.most, set(self.cordoned), key=len)
            elif s.kind in (Kind.UNCORDON_NODE, Kind.DELETE_K8S_NODE):
                self.cordoned.discard(node)
        time.sleep(0.02)
        return "ok"


def test_a_resize_and_a_removal_run_with_one_node_cordoned_at_a_time() -> None:
    """The planned drains of two nodes needing different disruptive steps, run as the engine runs them."""
    _, _, plan = run_scenario({"spec": {"nodes.3.memory": 24576, "nodes.4": "<delete>", "allowDestroy": True}})
    assert {s.kind for s in plan.steps} >= {Kind.UPDATE_VM, Kind.DELETE_VM, Kind.DRAIN_NODE}
    cordons = Cordons()
    assert execute(plan, cordons, Recorder(), max_parallel=5, policy=FAST).ok
    assert len(cordons.most) == 1, f"cordoned at once: {sorted(cordons.most)}"


def test_a_runner_that_lost_the_cluster_lease_starts_no_further_step() -> None:
    """The fencing check is asked before each step; once it says no, nothing more starts (what ran, ran)."""
    lease = {"ours": True}
    done: list[str] = []

    def handler(s: Step) -> str:
        done.append(s.id)
        lease["ours"] = s.id != "b"  # another replica takes the cluster while step b runs
        return "ok"

    plan = Plan("c", (step("a"), step("b", "a"), step("c", "b"), step("d", "c")))
    result = execute(plan, handler, Recorder(), still_ours=lambda: lease["ours"])
    assert done == ["a", "b"]
    assert result.statuses == {"a": "done", "b": "done", "c": "skipped", "d": "skipped"}
    assert result.error == "c: not started: another runner holds the cluster's lease now"
