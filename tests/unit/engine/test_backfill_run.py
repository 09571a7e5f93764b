"""run_backfill over the in-memory API and a Prometheus answering from in-memory samples: the write path."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from typing import Any
from urllib.parse import parse_qs

from kubectl_infercost.prometheus import PrometheusClient, PrometheusOptions
from kubectl_infercost.reconcile.backfill import BackfillOptions, run_backfill

from .fakeapi import FakeApi, Reply

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
DAY1 = datetime(2026, 11, 29, tzinfo=UTC)  # daily periods in UTC: 2026-11-29, 2026-11-30
SERIES = {"namespace": "team-a", "pod": "vllm-0", "model_name": "llama"}


@dataclass
class Answer:
    """What the client reads of a urllib3 response (streamed: ``preload_content=False``)."""

    status: int
    data: bytes
    offset: int = 0

    def read(self, amt: int) -> bytes:
        part = self.data[self.offset : self.offset + amt]
        self.offset += len(part)
        return part

    def release_conn(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class FakePrometheus:
    """Answers ``family{...}[Ns]`` at a time with the stored samples in (time - N, time]."""

    samples: dict[str, list[tuple[dict[str, str], list[tuple[int, str]]]]]
    queries: list[str] = field(default_factory=list)

    def request(self, _method: str, _url: str, *, body: str, **_: Any) -> Answer:  # the client transport's shape
        form = {k: v[0] for k, v in parse_qs(body).items()}
        self.queries.append(form["query"])
        m = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})?\[(\d+)s\]", form["query"])
        assert m is not None, form["query"]
        at, window = float(form["time"]), int(m.group(2))
        result = [
            {"metric": labels, "values": [[t, v] for t, v in points if at - window < t <= at]}
            for labels, points in self.samples.get(m.group(1), [])
        ]
        body_out = {"status": "success", "data": {"resultType": "matrix", "result": [r for r in result if r["values"]]}}
        return Answer(200, json.dumps(body_out).encode())


def _t(day: datetime, hours: float) -> int:
    return int((day + timedelta(hours=hours)).timestamp())


def _world() -> tuple[FakeApi, FakePrometheus]:
    api = FakeApi()
    # $8,760 over 1 year, 1 GPU: $1/h; no readings, tdpWatts 0: no energy
    api.create(
        "costprofiles",
        "team-a",
        "pool",
        {
            "hardware": {"gpuModel": "x", "gpuCount": 1, "purchasePriceUSD": 8760, "amortizationYears": 1},
            "electricity": {"ratePerKWh": 0},
        },
    )
    api.create("usagereports", "team-a", "daily", {"costProfileRef": "pool"})
    api.objects[("usagereports", "team-a", "daily")]["status"] = {
        "period": "2026-12-01",
        "periodStart": "2026-12-01T00:00:00Z",
        "periodEnd": "2026-12-01T06:00:00Z",
        "accountingSince": "2026-12-01T06:00:00Z",
    }
    # scraped often enough that each day's lookback holds a sample (its baseline)
    prompt = [(_t(DAY1, 0) - 1800, "0"), (_t(DAY1, 12), "400"), (_t(DAY1, 24) - 1800, "400"), (_t(DAY1, 36), "1000")]
    return api, FakePrometheus({"vllm:prompt_tokens_total": [(SERIES, prompt)]})


def _run(api: FakeApi, prom: FakePrometheus, dry_run: bool = False):  # type: ignore[no-untyped-def]
    client = PrometheusClient(PrometheusOptions("http://prometheus:9090"), pool=prom)  # type: ignore[arg-type]
    opts = BackfillOptions(
        since=date(2026, 11, 29),
        until=None,
        namespace="team-a",
        prometheus=client,
        catalog=None,
        now=NOW,
        step=timedelta(hours=24),
        dry_run=dry_run,
    )
    with api.client() as kube:
        return run_backfill(kube, opts, lambda _m: None)


def _periods(api: FakeApi) -> list[tuple[str, int, str, str | None]]:
    history = api.status("usagereports", "team-a", "daily").get("history") or []
    return [(h["period"], h.get("inputTokens", 0), str(h["estimatedCostUSD"]), h.get("source")) for h in history]


def test_two_days_written_once_and_a_dry_run_writes_nothing() -> None:
    api, prom = _world()
    dry = _run(api, prom, dry_run=True)
    assert [(e.period, e.input_tokens) for e in dry.results[0].entries] == [("2026-11-30", 600), ("2026-11-29", 400)]
    assert api.writes == []
    summary = _run(api, prom)
    assert summary.problems == []
    # each day: 24 h x $1 = 24, all to llama (token mode); 400 tokens on the 29th, 1000 - 400 = 600 on the 30th
    assert _periods(api) == [
        ("2026-11-30", 600, "24", "prometheus-backfill"),
        ("2026-11-29", 400, "24", "prometheus-backfill"),
    ]
    assert api.writes == ["usagereports/team-a/daily"]
    again = _run(api, prom)
    assert [r.entries for r in again.results] == [[]] and api.writes == ["usagereports/team-a/daily"]
    # one query per family and day (the first one of a period reaching back the lookback), 14 families, 2 days,
    # in the dry run and the first run; the last run had nothing to read
    assert len(prom.queries) == 14 * 2 * 2
    assert "vllm:prompt_tokens_total[90000s]" in prom.queries  # 24 h + 1 h of lookback


@dataclass
class RivalApi(FakeApi):
    """Another backfill writes 2026-11-29 (its own figures) just before our first status write."""

    rival: dict[str, Any] | None = None

    def __call__(self, method: str, url: str, *, body: bytes | None = None, **kw: Any) -> Reply:
        if method == "PUT" and url.endswith("/status") and self.rival is not None:
            obj = self.objects[("usagereports", "team-a", "daily")]
            obj["status"] = {**obj["status"], "history": [self.rival]}
            self.version += 1
            obj["metadata"]["resourceVersion"] = str(self.version)  # so our write is stale: 409
            self.rival = None
        return super().__call__(method, url, body=body, **kw)


def test_a_report_whose_profile_is_not_valid_is_named() -> None:
    api, prom = _world()
    api.objects[("costprofiles", "team-a", "pool")]["spec"]["hardware"]["gpuCount"] = 0
    summary = _run(api, prom)
    assert summary.problems == [
        "UsageReport team-a/daily: spec.costProfileRef: CostProfile team-a/pool is not valid "
        "(spec.hardware.gpuCount: Input should be greater than or equal to 1)"
    ]
    assert summary.invalid == 1 and api.writes == []
    del api.objects[("costprofiles", "team-a", "pool")]
    assert _run(api, prom).problems == [
        "UsageReport team-a/daily: spec.costProfileRef: CostProfile team-a/pool not found"
    ]


def test_a_conflicting_write_is_planned_again_on_what_won() -> None:
    base, prom = _world()
    api = RivalApi(objects=base.objects, version=base.version)
    rival = {"period": "2026-11-29", "periodStart": "2026-11-29T00:00:00Z", "periodEnd": "2026-11-30T00:00:00Z"}
    api.rival = {**rival, "estimatedCostUSD": 7, "source": "prometheus-backfill"}
    summary = _run(api, prom)
    assert summary.problems == []
    # the rival's 2026-11-29 stays exactly as it wrote it; only 2026-11-30 is added
    assert _periods(api) == [
        ("2026-11-30", 600, "24", "prometheus-backfill"),
        ("2026-11-29", 0, "7", "prometheus-backfill"),
    ]
    assert summary.results[0].notes == [
        "2026-12-01: contains accountingSince; only live accounting is kept for it",
        "2026-11-29: already accounted; left untouched",
    ]
    assert D(str(api.status("usagereports", "team-a", "daily")["history"][1]["estimatedCostUSD"])) == D(7)
