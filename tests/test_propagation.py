"""Which configuration version each checkout node runs, over hand-made delivery sequences."""

from __future__ import annotations

import math

import pytest

from sim.engine.changes import Propagation


def test_a_change_reaching_three_nodes_one_by_one() -> None:
    p = Propagation(3)
    v = p.issue(10.0)
    assert v == 1 and p.issued == [0.0, 10.0] and math.isnan(p.spread[0])
    assert p.take(0, v, 12.0) and p.since == 12.0
    assert p.take(1, v, 15.5)
    assert p.disagreement == [] and math.isnan(p.spread[0])  # node 2 still runs version 0
    assert p.take(2, v, 20.25)
    assert p.applied == [1, 1, 1] and p.since is None
    assert p.disagreement == [(12.0, 20.25)]
    assert p.spread == [10.25]  # from the issue, not from the first delivery
    p.close(100.0)
    assert p.disagreement == [(12.0, 20.25)] and p.spread == [10.25]


def test_a_late_delivery_of_an_older_version_is_ignored_and_does_not_revert() -> None:
    p = Propagation(3)
    v1 = p.issue(0.0)
    for node in range(3):
        assert p.take(node, v1, 0.0)
    v2, v3 = p.issue(30.0), p.issue(40.0)
    assert (v2, v3) == (2, 3)
    assert p.take(0, v3, 41.0)  # node 0: v3 overtakes v2
    assert not p.take(0, v2, 45.0)  # v2 arrives late: ignored
    assert not p.take(0, v3, 46.0)  # a repeat of what it runs: ignored too
    assert p.applied == [3, 1, 1]
    assert p.take(1, v2, 50.0)
    assert p.take(2, v3, 55.0)  # node 2 skips v2 altogether
    # Every node now runs v2 or later: v2 reached the last node at 55 (issued at 30).
    assert p.spread[:2] == [0.0, 25.0]
    assert math.isnan(p.spread[2])
    assert p.take(1, v3, 60.0)
    assert not p.take(1, v2, 62.0)  # v2 late on node 1: ignored, no revert
    assert p.applied == [3, 3, 3]
    assert p.disagreement == [(41.0, 60.0)]  # one span: the nodes never all agreed between
    assert p.spread == [0.0, 25.0, 20.0]
    p.close(90.0)
    assert p.disagreement == [(41.0, 60.0)] and p.spread == [0.0, 25.0, 20.0]


def test_an_old_version_arriving_after_all_agree_starts_no_disagreement() -> None:
    p = Propagation(2)
    v1, v2 = p.issue(5.0), p.issue(6.0)
    assert p.take(0, v2, 7.0) and p.take(1, v2, 8.0)
    assert p.spread == [3.0, 2.0]  # v1 overtaken on both nodes: settled with v2
    assert not p.take(0, v1, 20.0) and not p.take(1, v1, 21.0)
    assert p.applied == [2, 2] and p.since is None
    p.close(30.0)
    assert p.disagreement == [(7.0, 8.0)]
    assert p.spread == [3.0, 2.0]


def test_successive_disagreements_are_separate_spans() -> None:
    p = Propagation(2)
    v1 = p.issue(100.0)
    p.take(1, v1, 101.0)
    p.take(0, v1, 104.0)
    v2 = p.issue(200.0)
    p.take(0, v2, 230.0)
    p.take(1, v2, 231.5)
    assert p.disagreement == [(101.0, 104.0), (230.0, 231.5)]
    assert p.spread == [4.0, 31.5]


def test_close_counts_an_ongoing_disagreement_and_an_unreached_version_to_the_end() -> None:
    p = Propagation(2)
    v1 = p.issue(10.0)
    assert p.take(0, v1, 12.0)
    v2 = p.issue(50.0)  # issued, reaches no node before the end
    p.close(100.0)
    assert p.disagreement == [(12.0, 100.0)]
    assert p.spread == [90.0, 50.0]
    assert p.since is None
    assert p.applied == [1, 0] and v2 == 2


def test_close_after_every_node_agreed_adds_nothing() -> None:
    p = Propagation(4)
    v = p.issue(1.0)
    for node in range(4):
        p.take(node, v, 1.0 + node)
    p.close(10.0)
    assert p.disagreement == [(1.0, 4.0)]
    assert p.spread == [3.0]


@pytest.mark.parametrize("nodes", [1, 2, 4])
def test_deliveries_at_one_instant_record_no_disagreement(nodes: int) -> None:
    p = Propagation(nodes)
    v = p.issue(5.0)
    for node in range(nodes):
        assert p.take(node, v, 65.0)  # a constant delay: every node at the same instant
    assert p.disagreement == [] and p.since is None
    assert p.spread == [60.0]
    p.close(65.0)  # a disagreement ending at the very end is zero-length as well
    assert p.disagreement == []


def test_close_at_the_instant_a_disagreement_began_records_nothing() -> None:
    p = Propagation(2)
    v = p.issue(5.0)
    p.take(0, v, 7.0)
    p.close(7.0)
    assert p.disagreement == [] and p.spread == [2.0]


def test_a_run_without_changes_has_nothing_to_report() -> None:
    p = Propagation(4)
    p.close(600.0)
    assert p.disagreement == [] and p.spread == [] and p.applied == [0, 0, 0, 0]


def test_on_latest_counts_the_nodes_running_the_newest_version() -> None:
    p = Propagation(3)
    assert p.on_latest() == 3  # nothing issued: everybody runs the configuration as written
    v1 = p.issue(1.0)
    assert p.on_latest() == 0
    p.take(2, v1, 2.0)
    assert p.on_latest() == 1
    v2 = p.issue(3.0)
    p.take(0, v2, 4.0)
    p.take(1, v1, 5.0)
    assert p.on_latest() == 1  # node 0 only; nodes 1 and 2 run v1
