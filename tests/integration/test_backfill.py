"""``kubectl infercost backfill`` against a real API server and a real Prometheus serving hand-written history.

The history (promtool TSDB blocks from the OpenMetrics below) spans October and November 2026 in
America/New_York: token counters of two namespaces with resets, a gap and samples on both sides of
the New York month boundary (2026-11-01 04:00Z), and two GPUs whose energy counters are sampled at
every --step end, one with a reset, the other changing owner (a new series) at the boundary.
Every expected figure is worked out by hand in the comments.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv.promhistory import HistoryPrometheus
from testenv.simpod import make_node

from .conftest import REPO, run_cli
from .identities import bind, user, user_kubeconfig
from .world import check_invariants, create, reconcile, status_of

GROUP = "/apis/finops.infercost.ai/v1alpha1"
NODE = "backfill-node-1"
OCT0 = datetime(2026, 10, 1, 4, tzinfo=UTC)  # 2026-10-01 00:00 EDT
NOV0 = datetime(2026, 11, 1, 4, tzinfo=UTC)  # 2026-11-01 00:00 EDT
DEC0 = datetime(2026, 12, 1, 5, tzinfo=UTC)  # 2026-12-01 00:00 EST (November has 721 hours)
ACCOUNTING_SINCE = "2026-12-01T15:00:00Z"  # Dec 1, 10:00 EST
DAY = timedelta(hours=24)
KWH = 3_600_000_000  # mJ

# --step 24h: October is 31 steps of 24 h; November 30 of 24 h and one of 1 h (DST ended on Nov 1).
OCT_ENDS = [OCT0 + k * DAY for k in range(1, 32)]
NOV_ENDS = [NOV0 + k * DAY for k in range(1, 31)] + [DEC0]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _series(name: str, labels: str, points: list[tuple[datetime, int]]) -> list[str]:
    return [f"{name}{{{labels}}} {value} {int(t.timestamp())}" for t, value in points]


A = 'namespace="bf-team-a",pod="vllm-a",model_name="llama",cluster="prod"'
B = 'namespace="bf-team-b",pod="vllm-b",model_name="mistral",cluster="prod"'
EXPORTER = f'namespace="gpu-operator",pod="dcgm-exporter-x",Hostname="{NODE}",modelName="NVIDIA L40S",cluster="prod"'


def _gpu_lines() -> list[str]:
    # GPU-0: 10 kWh at OCT0, +1 kWh at every step end, except November's 10th: a reset to 0.5 kWh.
    # GPU-1: 20 kWh at OCT0, +1 kWh at every step end; no owner in October, bf-team-b/vllm-b in November.
    g0, value = [], 10 * KWH
    for t in [OCT0, *OCT_ENDS, *NOV_ENDS]:
        if t != OCT0:
            value = KWH // 2 if t == NOV_ENDS[9] else value + KWH
        g0.append((t, value))
    g1 = [(t, 20 * KWH + i * KWH) for i, t in enumerate([OCT0, *OCT_ENDS, *NOV_ENDS])]
    owned_a = 'exported_namespace="bf-team-a",exported_pod="vllm-a"'
    owned_b = 'exported_namespace="bf-team-b",exported_pod="vllm-b"'
    energy = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
    return [
        f"# TYPE {energy} gauge",
        *_series(energy, f'{EXPORTER},gpu="0",UUID="GPU-0",{owned_a}', g0),
        *_series(energy, f'{EXPORTER},gpu="1",UUID="GPU-1"', g1[:32]),  # OCT0 and October's step ends
        *_series(energy, f'{EXPORTER},gpu="1",UUID="GPU-1",{owned_b}', g1[32:]),
    ]


HISTORY = "\n".join(
    [
        "# TYPE vllm:prompt_tokens counter",
        *_series(
            "vllm:prompt_tokens_total",
            A,
            [
                (_at("2026-10-01T03:30:00Z"), 1000),  # October's baseline (Sep 30, 23:30 EDT)
                (_at("2026-10-10T12:00:00Z"), 5000),
                (_at("2026-10-20T12:00:00Z"), 3000),  # a reset: 3,000 new
                (_at("2026-11-01T03:30:00Z"), 4000),  # Oct 31, 23:30 EDT: October in New York, November in UTC
                (_at("2026-11-05T12:00:00Z"), 4500),
                (_at("2026-11-25T12:00:00Z"), 9500),  # after a 20-day gap: all 5,000 count
                (_at("2026-11-28T12:00:00Z"), 200),  # a reset
                (_at("2026-12-01T04:59:59Z"), 1200),  # Nov 30, 23:59:59 EST
                (_at("2026-12-01T06:00:00Z"), 1300),  # December: not backfilled (it holds accountingSince)
            ],
        ),
        *_series(
            "vllm:prompt_tokens_total",
            B,
            [
                (_at("2026-10-15T12:00:00Z"), 200),  # a series new in October: all of it counts
                (_at("2026-10-16T12:00:00Z"), 700),
                (_at("2026-11-01T03:30:00Z"), 700),
                (_at("2026-11-02T12:00:00Z"), 1700),
            ],
        ),
        # another cluster's copy (--prometheus-selector leaves it out) and a namespace the report does not cover
        *_series("vllm:prompt_tokens_total", A.replace("prod", "dev"), [(_at("2026-10-05T00:00:00Z"), 999_999)]),
        *_series(
            "vllm:prompt_tokens_total",
            'namespace="bf-team-c",pod="vllm-c",model_name="llama",cluster="prod"',
            [(_at("2026-10-05T00:00:00Z"), 0), (_at("2026-10-06T00:00:00Z"), 777)],
        ),
        "# TYPE vllm:generation_tokens counter",
        *_series(
            "vllm:generation_tokens_total",
            A,
            [
                (_at("2026-10-01T03:30:00Z"), 100),
                (_at("2026-11-01T04:00:00Z"), 600),  # exactly at the boundary: October's
                (_at("2026-11-20T12:00:00Z"), 900),
            ],
        ),
        *_gpu_lines(),
        "# EOF",
        "",
    ]
)

# The profile: 2 GPUs, $17,520 over 2 years = $1/h for the pool, no maintenance, $0.10/kWh, PUE 1.
PROFILE = {
    "hardware": {"gpuModel": "NVIDIA L40S", "gpuCount": 2, "purchasePriceUSD": 17520, "amortizationYears": 2},
    "electricity": {"ratePerKWh": 0.10, "pueFactor": 1.0},
    "nodeSelector": {"infercost.test/pool": "backfill"},
}
REPORT = {
    "costProfileRef": "pool",
    "schedule": "monthly",
    "timeZone": "America/New_York",
    "namespaces": ["bf-team-a", "bf-team-b"],
}

# October, 31 steps of 24 h: each costs 24 h x $1 + 2 kWh x $0.10 = 24.2. GPU-0 is vllm-a's at every step
# end, GPU-1 nobody's: vllm-a pays 24.2 / 2 = 12.1 a step, 31 x 12.1 = 375.1, and as much is idle.
#   tokens: a in = (5000-1000) + 3000 (reset) + (4000-3000) = 8000, out = 600-100 = 500;
#   b in = 200 (new) + 500 = 700 (it holds no GPU: its tokens ride on the owners' cost, $0).
#   total 744 + 6.2 = 750.2; 62 kWh; 2 x 744 = 1,488 GPU-hours; 750.2 / 9,200 tokens x 1e6 = 81,543.478261
OCTOBER = {
    "period": "2026-10",
    "periodStart": "2026-10-01T04:00:00Z",
    "periodEnd": "2026-11-01T04:00:00Z",
    "source": "prometheus-backfill",
    "inputTokens": 8700,
    "outputTokens": 500,
    "estimatedCostUSD": D("750.2"),
    "idleCostUSD": D("375.1"),
    "energyKWh": D(62),
    "gpuHours": D(1488),
    "totalHoursInPeriod": D(744),
    "costPerMillionTokens": D("81543.478261"),
    "byModel": [
        ("bf-team-a", "llama", 8000, 500, D("375.1")),
        ("bf-team-b", "mistral", 700, 0, D(0)),
    ],
}
# November, 30 steps of 24 h and one of 1 h = 721 h. Energy: GPU-0 +1 kWh a step but 0.5 at the reset
# (the post-reset value counts) = 30.5, GPU-1 31 -> 61.5 kWh, $6.15; total 721 + 6.15 = 727.15.
# GPU-0 is vllm-a's, GPU-1 vllm-b's at every step end: each pays half of every step = 363.575, idle 0
# (steps: 24.2 / 2 = 12.1; the reset step 24.15 / 2 = 12.075; the last 1.2 / 2 = 0.6, all exact).
#   tokens: a in = (4500-4000) + (9500-4500) + 200 (reset) + (1200-200) = 6700, out = 900-600 = 300;
#   b in = 1700 - 700 = 1000. 727.15 / 8,000 tokens x 1e6 = 90,893.75
NOVEMBER = {
    "period": "2026-11",
    "periodStart": "2026-11-01T04:00:00Z",
    "periodEnd": "2026-12-01T05:00:00Z",
    "source": "prometheus-backfill",
    "inputTokens": 7700,
    "outputTokens": 300,
    "estimatedCostUSD": D("727.15"),
    "idleCostUSD": D(0),
    "energyKWh": D("61.5"),
    "gpuHours": D(1442),
    "totalHoursInPeriod": D(721),
    "costPerMillionTokens": D("90893.75"),
    "byModel": [
        ("bf-team-a", "llama", 6700, 300, D("363.575")),
        ("bf-team-b", "mistral", 1000, 0, D("363.575")),
    ],
}


def _d(value: Any) -> D:
    return D(str(value if value is not None else 0))


def _figures(entry: dict[str, Any]) -> dict[str, Any]:
    """The asserted figures of one written history entry, as exact Decimals."""
    return {
        "period": entry["period"],
        "periodStart": entry["periodStart"],
        "periodEnd": entry["periodEnd"],
        "source": entry.get("source"),
        "inputTokens": entry.get("inputTokens", 0),
        "outputTokens": entry.get("outputTokens", 0),
        "estimatedCostUSD": _d(entry.get("estimatedCostUSD")),
        "idleCostUSD": _d(entry.get("idleCostUSD")),
        "energyKWh": _d(entry.get("energyKWh")),
        "gpuHours": _d(entry.get("gpuHours")),
        "totalHoursInPeriod": _d(entry.get("totalHoursInPeriod")),
        "costPerMillionTokens": _d(entry.get("costPerMillionTokens")),
        "byModel": [
            (
                m["namespace"],
                m["model"],
                m.get("inputTokens", 0),
                m.get("outputTokens", 0),
                _d(m.get("estimatedCostUSD")),
            )
            for m in entry.get("byModel", [])
        ],
    }


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HistoryPrometheus]:
    server = HistoryPrometheus(tmp_path_factory.mktemp("prom-backfill"), port=19192)
    server.start(HISTORY)
    yield server
    server.stop()


@pytest.fixture
def world(installed: None, kube: KubeClient, namespace: str) -> str:  # noqa: ARG001, V107 -- for its side effect
    """A profile over NODE and a monthly report, reconciled once: accountingSince = 2026-12-01T15:00Z."""
    make_node(kube, NODE, {"infercost.test/pool": "backfill"}, 2)
    create(kube, "costprofiles", namespace, "pool", PROFILE)
    create(kube, "usagereports", namespace, "monthly", REPORT)
    reconcile(namespace, ACCOUNTING_SINCE, "-q")
    status = status_of(kube, "usagereports", namespace, "monthly")
    assert (status["accountingSince"], status["period"], status.get("history")) == (ACCOUNTING_SINCE, "2026-12", [])
    return namespace


def backfill(
    namespace: str, prom: HistoryPrometheus, *extra: str, since: str = "2026-10-01", env: dict[str, str] | None = None
) -> Any:
    return run_cli(
        "backfill",
        "-n",
        namespace,
        "--since",
        since,
        "--step",
        "24h",
        "--prometheus-url",
        prom.url,
        "--prometheus-selector",
        'cluster="prod"',
        *extra,
        env=env,
    )


def _report(kube: KubeClient, namespace: str, name: str = "monthly") -> dict[str, Any]:
    return dict(kube.get(f"{GROUP}/namespaces/{namespace}/usagereports/{name}"))


def test_backfill_writes_hand_computed_history_once(kube: KubeClient, world: str, prom: HistoryPrometheus) -> None:
    namespace = world
    before = _report(kube, namespace)

    # --dry-run: the entries are printed (table, then JSON), nothing is written
    dry = backfill(namespace, prom, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "2026-11" in dry.stdout and "2026-10" in dry.stdout and "would write 2 history entries" in dry.stdout
    assert "2026-12: contains accountingSince" in dry.stdout
    assert "backfill: " in dry.stderr  # progress
    as_json = backfill(namespace, prom, "--dry-run", "-o", "json", "-q")
    assert as_json.returncode == 0, as_json.stderr
    printed = json.loads(as_json.stdout, parse_float=D)
    assert printed["dryRun"] is True
    [item] = printed["items"]
    assert [_figures(e) for e in item["history"]] == [NOVEMBER, OCTOBER]
    # September (720 h) is before Prometheus' data begins (Oct 1, 03:30Z): vllm-a's first samples, 1,000 and
    # 100 tokens, are only its baseline. 29 steps without readings or owners: 29 x 24 = 696 idle. The last step
    # ends at OCT0, where the GPUs' first samples name vllm-a as GPU-0's owner: it pays 24 / 2 = 12, idle 12
    # more (no energy baseline yet and tdpWatts 0: 0 kWh). Total 720 = 12 (llama, no tokens) + 708 idle.
    earlier = run_cli(
        "backfill", "-n", namespace, "--since", "2026-09-01", "--until", "2026-10-01", "--step", "24h",
        "--prometheus-url", prom.url, "--prometheus-selector", 'cluster="prod"', "--dry-run", "-o", "json", "-q",
    )  # fmt: skip
    assert earlier.returncode == 0, earlier.stderr
    [september] = json.loads(earlier.stdout, parse_float=D)["items"][0]["history"]
    assert _figures(september) == {
        "period": "2026-09",
        "periodStart": "2026-09-01T04:00:00Z",
        "periodEnd": "2026-10-01T04:00:00Z",
        "source": "prometheus-backfill",
        "inputTokens": 0,
        "outputTokens": 0,
        "estimatedCostUSD": D(720),
        "idleCostUSD": D(708),
        "energyKWh": D(0),
        "gpuHours": D(1440),
        "totalHoursInPeriod": D(720),
        "costPerMillionTokens": D(0),
        "byModel": [("bf-team-a", "llama", 0, 0, D(12))],
    }
    assert _report(kube, namespace)["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]

    # October alone first (--until 2026-11-01, New York midnight)
    first = backfill(namespace, prom, "--until", "2026-11-01")
    assert first.returncode == 0, first.stderr
    assert "wrote 1 history entry" in first.stdout
    history = status_of(kube, "usagereports", namespace, "monthly")["history"]
    assert [_figures(e) for e in history] == [OCTOBER]
    october = history[0]

    # then everything: November is added, October (already accounted) is left exactly as it was
    second = backfill(namespace, prom)
    assert second.returncode == 0, second.stderr
    assert "wrote 1 history entry" in second.stdout and "2026-10: already accounted; left untouched" in second.stdout
    status = status_of(kube, "usagereports", namespace, "monthly")
    assert [_figures(e) for e in status["history"]] == [NOVEMBER, OCTOBER]
    assert status["history"][1] == october
    check_invariants(status)
    # the live part is untouched: the current period, its checkpoint, accountingSince
    for key in ("period", "periodStart", "periodEnd", "accountingSince", "checkpoint", "estimatedCostUSD"):
        assert status.get(key) == before["status"].get(key), key

    # a third run changes nothing: not even the resourceVersion
    version = _report(kube, namespace)["metadata"]["resourceVersion"]
    third = backfill(namespace, prom)
    assert third.returncode == 0, third.stderr
    assert "wrote 0 history entries" in third.stdout
    assert _report(kube, namespace)["metadata"]["resourceVersion"] == version

    # report history says how each period was obtained
    shown = run_cli("report", "history", "-n", namespace, "-o", "wide")
    assert shown.returncode == 0, shown.stderr
    assert [line.split()[-1] for line in shown.stdout.splitlines()[1:]] == ["prometheus-backfill"] * 2

    # the history the live reconcile keeps from now on includes the backfilled periods
    reconcile(namespace, "2026-12-01T16:00:00Z", "-q")
    after = status_of(kube, "usagereports", namespace, "monthly")
    assert [_figures(e) for e in after["history"]] == [NOVEMBER, OCTOBER]


def test_one_bad_report_is_named_and_the_others_are_backfilled(
    kube: KubeClient, world: str, prom: HistoryPrometheus
) -> None:
    namespace = world
    create(kube, "usagereports", namespace, "broken", {**REPORT, "costProfileRef": "missing"})
    create(kube, "usagereports", namespace, "fresh", REPORT)  # never reconciled: nothing to backfill before
    out = backfill(namespace, prom, "-q")
    assert out.returncode == 6, out.stdout + out.stderr
    assert (
        f"warning: UsageReport {namespace}/broken: spec.costProfileRef: CostProfile {namespace}/missing" in out.stderr
    )
    assert f"{namespace}/fresh: never reconciled (no status.accountingSince)" in out.stdout
    assert [_figures(e) for e in status_of(kube, "usagereports", namespace, "monthly")["history"]] == [
        NOVEMBER,
        OCTOBER,
    ]
    assert not status_of(kube, "usagereports", namespace, "fresh").get("history")


def test_backfill_beside_reconcile_keeps_both_exact(kube: KubeClient, world: str, prom: HistoryPrometheus) -> None:
    """Reconcile passes racing a backfill: optimistic concurrency keeps the live figures and the history exact."""
    namespace = world
    # a twin report that backfill leaves alone (historyLimit 0), reconciled by the same passes
    create(kube, "usagereports", namespace, "twin", {**REPORT, "historyLimit": 0})
    reconcile(namespace, ACCOUNTING_SINCE, "-q")  # the twin's baseline, at the same instant
    passes = [f"2026-12-01T{h}:00:00Z" for h in (16, 17, 18, 19)]
    errors: list[str] = []

    def live() -> None:
        for now in passes:
            out = run_cli("reconcile", "-n", namespace, "--now", now, "-q")
            if out.returncode != 0:
                errors.append(out.stderr)

    thread = threading.Thread(target=live)
    thread.start()
    out = backfill(namespace, prom, "-q")
    thread.join()
    assert errors == []
    assert out.returncode == 0, out.stderr
    monthly = status_of(kube, "usagereports", namespace, "monthly")
    twin = status_of(kube, "usagereports", namespace, "twin")
    assert [_figures(e) for e in monthly["history"]] == [NOVEMBER, OCTOBER]
    assert twin["history"] == []
    # the live accounting of both reports went through every pass, the same in both
    live_keys = ("period", "periodEnd", "estimatedCostUSD", "gpuHours", "energyKWh", "totalHoursInPeriod")
    assert {k: monthly.get(k) for k in live_keys} == {k: twin.get(k) for k in live_keys}
    assert monthly["periodEnd"] == passes[-1]
    # 2026-12-01 15:00Z to 19:00Z: 4 h of the pool at $1/h; no GPU readings on NODE and tdpWatts 0: no energy
    assert _d(monthly["estimatedCostUSD"]) == D(4)


def test_the_reconciler_role_suffices(kube: KubeClient, world: str, prom: HistoryPrometheus, tmp_path: Path) -> None:
    applied = subprocess.run(
        ["kubectl", "apply", "-f", str(REPO / "deploy" / "rbac" / "roles.yaml")], capture_output=True, text=True
    )
    assert applied.returncode == 0, applied.stderr
    name = f"backfill-{world}"
    bind(kube, "infercost-reconciler", user(name))
    out = backfill(
        world, prom, "-q", since="2026-11-01", env={"KUBECONFIG": str(user_kubeconfig(tmp_path / "rec", name))}
    )
    assert out.returncode == 0, out.stderr
    assert [_figures(e) for e in status_of(kube, "usagereports", world, "monthly")["history"]] == [NOVEMBER]


def test_an_unreachable_prometheus_writes_nothing(kube: KubeClient, world: str) -> None:
    version = _report(kube, world)["metadata"]["resourceVersion"]
    out = run_cli("backfill", "-n", world, "--since", "2026-11-01", "--prometheus-url", "http://127.0.0.1:9", "-q")
    assert out.returncode == 5, out.stdout + out.stderr
    assert f"warning: UsageReport {world}/monthly: period 2026-11 not backfilled: prometheus " in out.stderr
    assert "cannot reach Prometheus at http://127.0.0.1:9" in out.stderr
    assert _report(kube, world)["metadata"]["resourceVersion"] == version


def test_backfill_help_and_usage_errors() -> None:
    helped = run_cli("backfill", "--help")
    assert helped.returncode == 0
    for flag in ("--since", "--until", "--step", "--lookback", "--dry-run", "--prometheus-url", "-A"):
        assert flag in helped.stdout
    missing = run_cli("backfill", "--since", "2026-10-01")
    assert missing.returncode == 2 and "backfill needs --prometheus-url" in missing.stderr
    bad = run_cli("backfill", "--since", "October", "--prometheus-url", "http://127.0.0.1:9")
    assert bad.returncode == 2 and "--since 'October'" in bad.stderr
