"""Bad objects named by field; history repaired once; one profile per node; warnings only when they begin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from kubectl_infercost.core.profile import Claim, assign_nodes, shared_nodes_condition
from kubectl_infercost.core.validity import repair_history, report_problem
from kubectl_infercost.models import HistoryEntry, UsageReportSpec, UsageReportStatus
from kubectl_infercost.reconcile.alerts import warnings_begun

NOW = datetime(2026, 4, 20, 10, 0, tzinfo=UTC)
SPEC = UsageReportSpec.model_validate({"costProfileRef": "p"})


def status(**fields: object) -> UsageReportStatus:
    return UsageReportStatus.model_validate(fields)


def test_unknown_time_zone_names_the_field() -> None:
    spec = UsageReportSpec.model_validate({"costProfileRef": "p", "timeZone": "Mars/Olympus"})
    problem = report_problem(spec, status(), NOW, replay=False)
    assert problem is not None and problem.reason == "InvalidTimeZone"
    assert problem.message == "spec.timeZone: unknown time zone 'Mars/Olympus' (an IANA name, e.g. Europe/Paris)"


def test_future_checkpoint_is_never_ready_but_a_replay_is_refused_elsewhere() -> None:
    ahead = status(checkpoint={"time": "2026-04-21T10:00:00Z"})
    problem = report_problem(SPEC, ahead, NOW, replay=False)
    assert problem is not None and problem.reason == "CheckpointInFuture"
    assert problem.message.startswith("status.checkpoint.time 2026-04-21T10:00:00+00:00 is after now")
    assert report_problem(SPEC, ahead, NOW, replay=True) is None


def test_negative_cost_in_status_or_history_names_the_field() -> None:
    problem = report_problem(
        SPEC, status(byModel=[{"model": "m", "namespace": "n", "estimatedCostUSD": "-5"}]), NOW, False
    )
    assert (
        problem is not None
        and problem.message == "status.byModel[0].estimatedCostUSD is negative (-5); figures are never negative"
    )
    problem = report_problem(SPEC, status(history=[{"period": "2026-04-19", "idleCostUSD": "-0.1"}]), NOW, False)
    assert problem is not None and problem.message.startswith("status.history[0].idleCostUSD is negative")
    assert report_problem(SPEC, status(estimatedCostUSD="0"), NOW, False) is None


def day(label: str, end_hour: int, cost: str) -> HistoryEntry:
    start = datetime.fromisoformat(label).replace(tzinfo=UTC)
    return HistoryEntry(
        period=label, period_start=start, period_end=start + timedelta(hours=end_hour), estimated_cost_usd=D(cost)
    )


def test_duplicated_history_period_is_merged_once_keeping_the_furthest_accounted() -> None:
    history = [day("2026-04-19", 24, "10"), day("2026-04-18", 24, "7"), day("2026-04-19", 12, "5")]
    merged, note = repair_history(history)
    assert [(h.period, h.estimated_cost_usd) for h in merged] == [("2026-04-19", D(10)), ("2026-04-18", D(7))]
    assert note == "status.history listed 2026-04-19 more than once; merged into one each"
    assert repair_history(merged) == (merged, None)  # once: nothing left to repair


def test_unordered_history_is_put_newest_first() -> None:
    merged, note = repair_history([day("2026-04-17", 24, "1"), day("2026-04-19", 24, "3")])
    assert [h.period for h in merged] == ["2026-04-19", "2026-04-17"]
    assert note == "status.history was not ordered newest first; reordered"


def test_a_node_selected_by_two_profiles_is_accounted_by_the_oldest() -> None:
    old = Claim(("a", "first"), NOW - timedelta(days=2), ["gpu-1", "gpu-2"])
    new = Claim(("b", "second"), NOW - timedelta(days=1), ["gpu-2", "gpu-3"])
    result = assign_nodes([new, old])
    assert result.nodes == {("b", "second"): ["gpu-3"], ("a", "first"): ["gpu-1", "gpu-2"]}
    assert shared_nodes_condition(("a", "first"), result.shared[("a", "first")]) == (
        "True",
        "SharedNodes",
        "node gpu-2 is also selected by CostProfile b/second (this profile accounts it, created first); "
        "make the nodeSelectors disjoint",
    )
    assert shared_nodes_condition(("b", "second"), result.shared[("b", "second")])[2] == (
        "node gpu-2 is also selected by CostProfile a/first (a/first accounts it, created first); "
        "make the nodeSelectors disjoint"
    )


def test_same_creation_time_is_decided_by_namespace_and_name() -> None:
    result = assign_nodes([Claim(("ns", "zeta"), NOW, ["n"]), Claim(("ns", "alpha"), NOW, ["n"])])
    assert result.nodes == {("ns", "zeta"): [], ("ns", "alpha"): ["n"]}


def test_a_warning_is_new_only_when_its_status_or_reason_changes() -> None:
    bad = {"type": "Ready", "status": "False", "reason": "InvalidTimeZone", "message": "m1"}
    assert warnings_begun([], [bad]) == [bad]
    assert warnings_begun([{**bad, "message": "other"}], [bad]) == []  # same state: no second Event
    other = {**bad, "reason": "CheckpointInFuture"}
    assert warnings_begun([bad], [other]) == [other]
    assert warnings_begun([bad], [{"type": "Ready", "status": "True", "reason": "Accounted"}]) == []


def test_every_reader_sees_a_duplicated_period_once() -> None:
    # report and export read the same model: the duplicate is merged on reading, and reconcile says so
    raw = {"period": "2026-04-19", "periodStart": "2026-04-19T00:00:00Z", "estimatedCostUSD": 10}
    st = UsageReportStatus.model_validate({"history": [raw, raw]})
    assert [h.period for h in st.history] == ["2026-04-19"]
    assert st.history_repaired == "status.history listed 2026-04-19 more than once; merged into one each"
    assert UsageReportStatus.model_validate({"history": [raw]}).history_repaired is None
