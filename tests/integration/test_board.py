"""``report board`` against a real API server: every number of the HTML equals ``report -o json``; PDF renders.

The world is reconciled for real (simulated DCGM and vLLM metrics, six passes over three days), so
the figures are the reconciler's; the board's are then worked out here from ``report ... -o json``
alone and compared, figure by figure, with every ``<data>`` element the page prints.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen
from tests.boardcheck import pdf_fonts, pdf_pages, read_page

from .conftest import NewIp, Sim, run_cli
from .world import create, create_with_status, new_world, reconcile

D = Decimal
# Counters (prompt, generation) of each pod and the GPUs' energy counter (mJ each) at each pass.
PASSES = [
    ("2026-04-18T12:00:00Z", (0, 0), (0, 0), 0),
    ("2026-04-18T18:00:00Z", (600_000, 200_000), (30_000, 10_000), 1_000_000_000),
    ("2026-04-19T00:00:00Z", (1_500_000, 500_000), (60_000, 20_000), 2_200_000_000),
    ("2026-04-19T12:00:00Z", (3_300_000, 1_100_000), (90_000, 30_000), 4_600_000_000),
    ("2026-04-20T00:00:00Z", (4_800_000, 1_600_000), (120_000, 40_000), 7_000_000_000),
    ("2026-04-20T06:00:00Z", (5_400_000, 1_800_000), (150_000, 50_000), 8_200_000_000),
]


def q6(value: Decimal) -> Decimal:
    return value.quantize(D("0.000001"), rounding=ROUND_HALF_EVEN)


def cli_json(*args: str) -> Any:
    result = run_cli(*args, "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout, parse_float=Decimal)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def hours(a: datetime, b: datetime) -> Decimal:
    return D((b - a) // timedelta(seconds=1)) / 3600


def build_world(kube: KubeClient, sim: Sim, ns: str, new_ip: NewIp) -> tuple[str, str]:
    w = new_world(kube, sim, ns)
    w.add_exporter(new_ip())
    w.pool_profile()
    team_a, team_b = f"{ns}-a", f"{ns}-b"
    ip_a, ip_b = new_ip(), new_ip()
    w.inference_pod("vllm-llama", team_a, ip_a, "llama-3-8b", gpus=4)
    w.inference_pod("vllm-qwen", team_b, ip_b, "qwen2.5-7b", gpus=2)  # two GPUs, few tokens
    create(kube, "usagereports", ns, "daily", {"costProfileRef": "h100", "namespaces": [team_a, team_b]})
    for now, (a_in, a_out), (b_in, b_out), energy in PASSES:
        sim.write(ip_a, 8000, metricsgen.vllm("llama-3-8b", a_in, a_out))
        sim.write(ip_b, 8000, metricsgen.vllm("qwen2.5-7b", b_in, b_out))
        w.set_energy(energy)
        reconcile(ns, now)
    ok = {"type": "BudgetOK", "status": "True", "reason": "WithinLimit", "lastTransitionTime": "2026-04-20T06:00:00Z"}
    status = {"currentSpendUSD": D("21.5"), "utilizationPercent": D("43"), "conditions": [ok]}
    status |= {"periodStart": "2026-04-01T00:00:00Z", "periodEnd": "2026-04-20T06:00:00Z"}
    thresholds = [{"percent": 80, "severity": "warning"}, {"percent": 100, "severity": "critical"}]
    spec = {"scope": {"namespace": team_a}, "monthlyLimitUSD": 50, "alertThresholds": thresholds}
    create_with_status(kube, "tokenbudgets", ns, "team-a-monthly", spec, status)
    return team_a, team_b


def expected_figures(ns: str) -> tuple[dict[str, Decimal], list[str]]:
    """The board for 2026-04-19 to 2026-04-20 against 2026-04-17 to 2026-04-18, from report -o json only."""
    (current,) = cli_json("report", "-n", ns)["usageReports"]
    history = cli_json("report", "history", "-n", ns)["items"]
    models_now = cli_json("report", "models", "-n", ns)["items"]
    namespaces_now = cli_json("report", "namespaces", "-n", ns)["items"]
    (budget,) = cli_json("report", "budgets", "-n", ns)["items"]
    compare = cli_json("report", "compare", "-n", ns)
    current["byModel"], current["byNamespace"] = models_now, namespaces_now
    periods = [current, *history]
    start, end = when("2026-04-19T00:00:00Z"), when("2026-04-21T00:00:00Z")
    now = [p for p in periods if start <= when(p["periodStart"]) < end]
    before = [p for p in periods if start - (end - start) <= when(p["periodStart"]) < start]
    assert [p["period"] for p in now] == ["2026-04-20", "2026-04-19"]
    assert [p["period"] for p in before] == ["2026-04-18"]

    f: dict[str, Decimal] = {}
    spend, prev = sum(p["estimatedCostUSD"] for p in now), sum(p["estimatedCostUSD"] for p in before)
    idle = sum(p["idleCostUSD"] for p in now)
    tin, tout = sum(p["inputTokens"] for p in now), sum(p["outputTokens"] for p in now)
    f |= {"spend": spend, "idle": idle, "allocated": spend - idle, "tokens": D(tin + tout)}
    f |= {"idle.percent": q6(idle / spend * 100), "allocated.percent": 100 - q6(idle / spend * 100)}
    f |= {"perMillion": q6(spend / (tin + tout) * 1_000_000)}
    f |= {"change.delta": spend - prev, "change.previous": prev, "change.percent": q6((spend - prev) / prev * 100)}
    # The range's data runs from 04-19 00:00 to 04-20 06:00 (30 h) of its 48 h: projected at that rate.
    f["projected"] = q6(spend + spend / 30 * 18)

    def by(key: str, field: str, periods: list[dict[str, Any]], name: str = "namespace") -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for p in periods:
            for row in p[key]:
                out[row[name]] = out.get(row[name], D(0)) + D(row[field])
        return out

    ns_spend, ns_tokens = by("byNamespace", "estimatedCostUSD", now), by("byNamespace", "tokenCount", now)
    ns_prev = by("byNamespace", "estimatedCostUSD", before)
    for name, cost in ns_spend.items():
        k = f"ns.{name}"
        f |= {f"{k}.spend": cost, f"{k}.tokens": ns_tokens[name], f"{k}.share": q6(cost / spend * 100)}
        f |= {f"{k}.previous": ns_prev[name], f"{k}.delta": cost - ns_prev[name]}
        f[f"{k}.percent"] = q6((cost - ns_prev[name]) / ns_prev[name] * 100)
    m_spend, m_tokens = by("byModel", "estimatedCostUSD", now, "model"), by("byModel", "totalTokens", now, "model")
    for name, cost in m_spend.items():
        k = f"model.{name}"
        f |= {f"{k}.spend": cost, f"{k}.tokens": m_tokens[name], f"{k}.perMillion": q6(cost / m_tokens[name] * 10**6)}

    # Every catalog model at the range's mix: in / 1M × input price + out / 1M × output price.
    clouds = {}
    for row in compare["items"]:
        k = f"cloud.{row['provider']}/{row['model']}/{row['tier']}"
        cost = (tin * row["inputPerMillion"] + tout * row["outputPerMillion"]) / 1_000_000
        clouds[k] = cost
        f |= {f"{k}.cost": cost, f"{k}.perMillion": q6(cost / (tin + tout) * 1_000_000)}
    cheapest = min(clouds.values())
    f |= {"cloud.cost": cheapest, ("cloud.extra" if cheapest < spend else "cloud.savings"): abs(cheapest - spend)}
    if cheapest >= spend:
        f["cloud.savingsPercent"] = q6((cheapest - spend) / cheapest * 100)
    f["catalog.entries"] = D(compare["catalog"]["entries"])

    # Budget: April has 720 h; 2026-04-01 to 04-20 06:00 is 462 h of it.
    k = f"budget.{ns}/team-a-monthly"
    projected = q6(budget["currentSpendUSD"] * 720 / hours(when(budget["periodStart"]), when(budget["periodEnd"])))
    f |= {f"{k}.limit": budget["monthlyLimitUSD"], f"{k}.spend": budget["currentSpendUSD"],
          f"{k}.utilization": budget["utilizationPercent"], f"{k}.projected": projected,
          f"{k}.projectedPercent": q6(projected / budget["monthlyLimitUSD"] * 100)}  # fmt: skip

    # Efficiency: GPU-hours and tokens per (namespace, model); flagged when GPU share ≥ 2 × token share.
    gpu: dict[tuple[str, str], Decimal] = {}
    tok: dict[tuple[str, str], Decimal] = {}
    cost_of: dict[tuple[str, str], Decimal] = {}
    for p in now:
        for m in p["byModel"]:
            key = (m["namespace"], m["model"])
            gpu[key] = gpu.get(key, D(0)) + m["gpuHours"]
            tok[key] = tok.get(key, D(0)) + m["totalTokens"]
            cost_of[key] = cost_of.get(key, D(0)) + m["estimatedCostUSD"]
    g_all, t_all = sum(gpu.values(), Decimal(0)), sum(tok.values(), Decimal(0))
    f |= {"fleetRate": q6(t_all / g_all), "hoursPerMonth": D(730)}
    for key in gpu:
        if tok[key] / t_all * 2 <= gpu[key] / g_all:
            k = f"eff.{key[0]}/{key[1]}"
            excess = gpu[key] - tok[key] / (t_all / g_all)
            f |= {f"{k}.gpuHours": gpu[key], f"{k}.gpuShare": q6(gpu[key] / g_all * 100),
                  f"{k}.tokenShare": q6(tok[key] / t_all * 100), f"{k}.excess": q6(excess),
                  f"{k}.saving": q6(excess * cost_of[key] / gpu[key] * 730 / 30)}  # fmt: skip
    names = [*ns_spend, *m_spend, *(k.split(".", 1)[1].rsplit("/", 1)[0] for k in clouds), ns, "team-a-monthly"]
    names += [k.split("/")[1] for k in clouds] + ["$/1M"]
    return f, names


@pytest.mark.usefixtures("installed")
def test_board_html_numbers_equal_report_json_and_pdf_renders(
    kube: KubeClient, sim: Sim, namespace: str, new_ip: NewIp, tmp_path: Path
) -> None:
    team_a, team_b = build_world(kube, sim, namespace, new_ip)
    html_path, pdf_path = tmp_path / "board.html", tmp_path / "board.pdf"
    span = ("--from", "2026-04-19", "--to", "2026-04-21")
    result = run_cli("report", "board", "-n", namespace, *span, "--out", str(html_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"wrote HTML board report for 2026-04-19 to 2026-04-20 to {html_path}\n"
    page = read_page(html_path.read_text())

    expected, names = expected_figures(namespace)
    assert f"eff.{team_b}/qwen2.5-7b.saving" in expected  # the two idle-ish GPUs are flagged
    assert set(page.figures) == set(expected), set(page.figures) ^ set(expected)
    for key, value in expected.items():
        assert page.value(key) == value, (key, page.value(key), value)
    assert page.numbers_outside_figures(names) == []
    assert page.unmatched_chart_labels() == []
    assert page.references == []
    assert page.text("spend") == f"${expected['spend']:,.2f}"

    result = run_cli("report", "board", "-n", namespace, *span, "--format", "pdf", "--paper", "letter",
                     "--out", str(pdf_path))  # fmt: skip
    assert result.returncode == 0, result.stderr
    pngs = pdf_pages(pdf_path, tmp_path)
    assert len(pngs) >= 2
    assert all(emb == "yes" for _, emb in pdf_fonts(pdf_path))
    words = subprocess.run(["pdftotext", str(pdf_path), "-"], check=True, capture_output=True, text=True).stdout
    assert page.text("spend") in words and page.text(f"ns.{team_a}.spend") in words


@pytest.mark.usefixtures("installed")
def test_board_of_an_empty_namespace_says_no_data_yet(namespace: str, tmp_path: Path) -> None:
    for fmt in ("html", "pdf"):
        out = tmp_path / f"empty.{fmt}"
        result = run_cli("report", "board", "-n", namespace, "--period", "2026-04", "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert "(no accounted data in this range yet)" in result.stderr
    page = read_page((tmp_path / "empty.html").read_text())
    assert "There is no accounted data in this range yet" in " ".join(page.loose)
    assert page.value("spend") == 0 and "▲" not in " ".join(page.loose)
    assert len(pdf_pages(tmp_path / "empty.pdf", tmp_path)) == 1


@pytest.mark.usefixtures("installed")
def test_board_usage_errors(namespace: str, tmp_path: Path) -> None:
    both = run_cli("report", "board", "-n", namespace, "--period", "2026-04", "--from", "2026-04-01",
                   "--to", "2026-04-02", "--out", str(tmp_path / "x.html"))  # fmt: skip
    assert both.returncode == 2 and "--period and --from/--to are mutually exclusive" in both.stderr
    unknown = run_cli("report", "board", "-n", namespace, "--out", str(tmp_path / "board.txt"))
    assert unknown.returncode == 2 and "--format html|pdf is needed" in unknown.stderr
    assert not (tmp_path / "board.txt").exists()
