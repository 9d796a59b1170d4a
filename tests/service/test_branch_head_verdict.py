"""The verdict on a claimed apply item, as properties over any linear history and any events: the head is
applied or nothing is, an older commit is never applied after a newer one, and no event goes unanswered."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from runner.engine.service.branch_head import judge
from runner.engine.service.queue import Ask

LINE = [f"{i:040x}" for i in range(12)]  # the protected branch, oldest first
OFF = ["f" * 40, "e" * 40]  # commits of unmerged branches


def contains(ancestor: str, descendant: str) -> bool:
    return ancestor in LINE and descendant in LINE and LINE.index(ancestor) <= LINE.index(descendant)


asks = st.lists(
    st.builds(Ask, st.sampled_from([None, "d1", "d2", "d3", "d4", "d5"]), st.sampled_from(["", *LINE, *OFF])),
    max_size=12,
)


@given(asks, st.integers(0, len(LINE) - 1), st.one_of(st.none(), st.integers(0, len(LINE) - 1)))
def test_the_head_wins_and_every_event_is_answered(events, head_at, last_at) -> None:  # type: ignore[no-untyped-def]
    head = LINE[head_at]
    last = None if last_at is None else LINE[last_at]
    verdict = judge(events, head, last, contains)
    on_branch = [a for a in events if not a.commit or contains(a.commit, head)]
    assert list(verdict.refused) == [a for a in events if a not in on_branch]
    assert set(verdict.deliveries) == {a.delivery for a in on_branch if a.delivery}
    assert verdict.head in (None, head)  # never the commit an event named, unless that is the head
    still_applied = last is not None and contains(last, head)  # a branch rewound past `last` no longer has it
    if verdict.head is None:  # nothing new: every merged event is already in what the cluster runs
        assert all(a.commit and still_applied and contains(a.commit, last) for a in on_branch)  # type: ignore[arg-type]
    else:  # something new: an event the cluster has not got yet, or a timer's (drift) that names no commit
        assert any(not a.commit or not still_applied or not contains(a.commit, last) for a in on_branch)  # type: ignore[arg-type]
        assert not still_applied or contains(last, verdict.head)  # type: ignore[arg-type]


def test_a_redelivered_older_push_is_covered_by_the_newer_apply() -> None:
    a, b = LINE[3], LINE[5]
    verdict = judge([Ask("delivery-a", a)], head=b, last_applied=b, contains=contains)
    assert (verdict.head, verdict.deliveries, verdict.refused) == (None, ("delivery-a",), ())


def test_after_a_rewind_of_the_branch_its_head_is_applied_again() -> None:
    """A force-push back to an older commit makes that commit the truth: what was applied after it covers nothing."""
    # main was at LINE[6] (applied), then reset to LINE[2]; its push names LINE[2], which LINE[6] contains.
    verdict = judge([Ask("d", LINE[2])], head=LINE[2], last_applied=LINE[6], contains=contains)
    assert verdict.head == LINE[2]
