"""Faults in the world: endpoints that fail in every way at once for one pass, then heal; label values
with quotes, newlines and unicode. Nothing is lost, nothing is counted twice, the money is exact.
Money from the flat $3.60/h profile (tests/integration/flat.py).
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D

import pytest

from kubectl_infercost.kube.client import KubeClient
from testenv import metricsgen
from testenv.simpod import delete_pod, make_pod

from .conftest import NewIp, Sim, run_cli
from .flat import flat_profile, flat_world, total_tokens, total_usd
from .world import STARTED, check_invariants, create, new_world, reconcile, status_of

T0, T1, T2 = "2026-04-20T10:00:00Z", "2026-04-20T11:00:00Z", "2026-04-20T12:00:00Z"

# pod name -> how its endpoint misbehaves during the middle pass
FAULTS = [
    "healthy",
    "http500",
    "http503",
    "hang",
    "cut",
    "huge",
    "refused",
    "nan",
    "inf",
    "neginf",
    "negative",
    "partial",
    "duplicate",
    "malformed",
]


def _bad_text(fault: str, tokens: int) -> str | bytes | None:
    """The body served during the fault (None: the healthy body, misbehaving by sidecar or port)."""
    good = metricsgen.vllm(fault, tokens, tokens // 10)
    series = f'vllm:prompt_tokens_total{{engine="0",model_name="{fault}"}}'
    bodies: dict[str, str | bytes] = {
        "nan": good.replace(f"{series} {tokens}.0", f"{series} NaN"),
        "inf": good.replace(f"{series} {tokens}.0", f"{series} +Inf"),
        "neginf": good.replace(f"{series} {tokens}.0", f"{series} -Inf"),
        "negative": good.replace(f"{series} {tokens}.0", f"{series} -4"),
        "partial": good + 'vllm:prompt_tokens_total{engine="0",model_name= 12\n',  # valid, then one broken line
        "duplicate": good + f"{series} {tokens}.0\n",
        "malformed": 'vllm:prompt_tokens_total{model_name="malformed" 12\n',
        # 20 MiB: a valid page padded with comment lines, past the 16 MiB --max-scrape-bytes default
        "huge": (good + ("# padding " + "x" * 1013 + "\n") * (20 * 1024)).encode(),
    }
    return bodies.get(fault)


@pytest.mark.usefixtures("installed")
def test_every_endpoint_fault_at_once_then_healed_loses_and_doubles_nothing(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
) -> None:
    w = flat_world(kube, sim, namespace, 16)  # 14 pods hold 14 of 16
    ips = {}
    for fault in FAULTS:
        ips[fault] = new_ip()
        make_pod(
            kube,
            fault,
            namespace,
            ips[fault],
            node=w.node,
            labels={"infercost.ai/model": fault},
            annotations={"infercost.ai/backend": "vllm"},
            gpus=1,
            started=STARTED,
        )

    def serve(tokens: int, faulty: bool) -> None:
        for fault, ip in ips.items():
            bad = _bad_text(fault, tokens) if faulty else None
            sim.write(ip, 8000, bad if bad is not None else metricsgen.vllm(fault, tokens, tokens // 10))
            sim.set_status(ip, 8000, {"http500": 500, "http503": 503}.get(fault) if faulty else None)
            sim.set_delay(ip, 8000, 5 if faulty and fault == "hang" else None)
            sim.set_close(ip, 8000, 200 if faulty and fault == "cut" else None)
        # nothing listens on port 8001 of any simulated pod: the connection is refused
        port = {"infercost.ai/metrics-port": "8001" if faulty else None}
        kube.merge_patch(f"/api/v1/namespaces/{namespace}/pods/refused", {"metadata": {"annotations": port}})

    serve(1_000, faulty=False)
    reconcile(namespace, T0)  # baseline: every pod at 1,000 in, 100 out
    serve(3_000, faulty=True)
    out = reconcile(namespace, T1, "--scrape-timeout", "2s")["stdout"]
    failed = [f for f in FAULTS if f != "healthy"]
    assert f"endpoints: {len(FAULTS)} scraped, {len(failed)} failed" in out, out
    listed = {line.split("failed: ", 1)[1].split(":", 1)[0]: line for line in out.splitlines() if "  failed: " in line}
    assert sorted(listed) == sorted(f"{namespace}/{f}" for f in failed), out
    expected_reason = {
        "http500": "500",
        "http503": "503",
        "hang": "timed out",
        "huge": "16777216",
        "nan": "NaN",
        "inf": "Inf",
        "neginf": "Inf",
        "negative": "negative",
        "duplicate": "duplicate series",
    }
    for fault, reason in expected_reason.items():
        assert reason in listed[f"{namespace}/{fault}"], listed[f"{namespace}/{fault}"]
    st = status_of(kube, "usagereports", namespace, "daily")
    # only the healthy pod's growth this hour: 3,000 - 1,000 = 2,000 in, 300 - 100 = 200 out
    assert total_tokens(st) == (2_000, 200)
    scrape = next(c for c in st["conditions"] if c["type"] == "ScrapeHealthy")
    assert scrape["status"] == "False" and scrape["message"].startswith(f"{len(failed)} endpoint(s) failed: ")

    serve(6_000, faulty=False)
    reconcile(namespace, T2)
    st = status_of(kube, "usagereports", namespace, "daily")
    # healed: each pod's growth since the baseline once, 6,000 - 1,000 = 5,000 in, 600 - 100 = 500 out
    tokens = {m["model"]: (m["inputTokens"], m["outputTokens"]) for m in st["byModel"]}
    assert tokens == {f: (5_000, 500) for f in FAULTS}
    # 2 hours at $3.60 = $7.20 over 16 GPUs: each of the 14 pods holds one, 7.2 / 16 = $0.45 each (exact),
    # and the 2 GPUs nobody holds are idle: 2 x 0.45 = $0.90; 14 x 0.45 + 0.90 = 7.20
    assert {m["model"]: D(str(m["estimatedCostUSD"])) for m in st["byModel"]} == {f: D("0.45") for f in FAULTS}
    assert D(str(st["idleCostUSD"])) == D("0.9") and D(str(st["estimatedCostUSD"])) == D("7.2")
    check_invariants(st)
    assert next(c for c in st["conditions"] if c["type"] == "ScrapeHealthy")["status"] == "True"


@pytest.mark.usefixtures("installed")
def test_label_values_with_quotes_newlines_and_unicode_survive_status_report_and_export(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
) -> None:
    w = flat_world(kube, sim, namespace, 1)
    ip = new_ip()
    # the model as vLLM reports it: a quote, a backslash, a newline, a comma and non-ASCII letters
    model = 'say "hi",\\ then\nnext: Grüße 模型 🚀'
    escaped = model.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    make_pod(
        kube,
        "vllm",
        namespace,
        ip,
        node=w.node,
        labels={"infercost.ai/model": "fallback"},
        annotations={"infercost.ai/backend": "vllm", "team.example/note": 'quoted "x"\nline two – ü'},
        gpus=1,
        started=STARTED,
    )

    def page(tokens: int) -> str:
        return (
            "# TYPE vllm:prompt_tokens_total counter\n"
            f'vllm:prompt_tokens_total{{engine="0",model_name="{escaped}"}} {tokens}\n'
            "# TYPE vllm:generation_tokens_total counter\n"
            f'vllm:generation_tokens_total{{engine="0",model_name="{escaped}"}} {tokens // 2}\n'
        )

    sim.write(ip, 8000, page(100))
    reconcile(namespace, T0)
    sim.write(ip, 8000, page(1_100))
    reconcile(namespace, T1)
    st = status_of(kube, "usagereports", namespace, "daily")
    # 1,100 - 100 = 1,000 in, 550 - 50 = 500 out; one hour at $3.60 on the one GPU's pod
    assert [
        (m["model"], m["inputTokens"], m["outputTokens"], D(str(m["estimatedCostUSD"]))) for m in st["byModel"]
    ] == [(model, 1_000, 500, D("3.6"))]
    reported = run_cli("report", "models", "-n", namespace, "-o", "json")
    assert reported.returncode == 0, reported.stderr
    assert [i["model"] for i in json.loads(reported.stdout)["items"]] == [model]
    table = run_cli("report", "models", "-n", namespace)
    assert table.returncode == 0, table.stderr
    print(table.stdout)
    exported = run_cli("export", "focus", "-n", namespace)
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.reader(io.StringIO(exported.stdout)))
    # the header and the model's row (no idle: its pod holds the only GPU), every record one line
    assert len(rows) == 2 and len(exported.stdout.splitlines()) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    # free text keeps quotes, commas, backslashes and unicode; the newline becomes a space (focus.md §3.1);
    # identifiers keep only [A-Za-z0-9._:/@-], each other run becoming "-"
    one_line = 'say "hi",\\ then next: Grüße 模型 🚀'
    assert (row["ResourceName"], row["x_InferModelName"]) == (one_line, one_line)
    assert row["SkuId"] == "say-hi-then-next-gr-e"
    assert D(row["BilledCost"]) == D("3.6")


@pytest.mark.usefixtures("installed")
def test_counter_reset_pod_recreated_under_its_name_and_exporter_restart_count_exactly(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
) -> None:
    w = new_world(kube, sim, namespace)
    w.add_exporter(new_ip(), gpu_count=2)
    profile = flat_profile(2, {"infercost.test/pool": namespace})
    profile["electricity"] = {"ratePerKWh": 0.1}  # PUE 1
    create(kube, "costprofiles", namespace, "flat", profile)
    create(kube, "usagereports", namespace, "daily", {"costProfileRef": "flat", "namespaces": [namespace]})
    vllm_ip, llama_ip = new_ip(), new_ip()
    w.inference_pod("vllm", namespace, vllm_ip, "m-vllm", gpus=1)
    w.inference_pod("llama", namespace, llama_ip, "m-llama", backend="llamacpp", gpus=1)

    def serve(vllm: int, llama: int) -> None:
        sim.write(vllm_ip, 8000, metricsgen.vllm("m-vllm", vllm, vllm // 10))
        sim.write(llama_ip, 8080, metricsgen.llamacpp(llama, llama // 10))

    serve(1_000, 500)
    w.set_energy(0, 500.0)
    reconcile(namespace, T0)
    serve(3_000, 1_500)
    w.set_energy(1_800_000_000, 500.0)  # 0.5 kWh per GPU
    reconcile(namespace, T1)
    # between 11:00 and 12:00: vLLM's container restarts (its counters start again), the llama.cpp pod is
    # deleted and created again under its name (a new UID, started 11:30), the exporter restarts
    delete_pod(kube, "llama", namespace)
    make_pod(
        kube,
        "llama",
        namespace,
        llama_ip,
        node=w.node,
        labels={"infercost.ai/model": "m-llama"},
        annotations={"infercost.ai/backend": "llamacpp"},
        gpus=1,
        started="2026-04-20T11:30:00Z",
    )
    serve(400, 250)
    w.set_energy(100_000_000, 400.0)  # went down: the energy counter restarted; power 500 W -> 400 W
    reconcile(namespace, "2026-04-20T12:00:00Z")
    serve(1_400, 1_250)
    w.set_energy(1_900_000_000, 400.0)  # +1.8e9 mJ = 0.5 kWh per GPU again
    reconcile(namespace, "2026-04-20T13:00:00Z")
    st = status_of(kube, "usagereports", namespace, "daily")
    # vLLM: +2,000 / +200, then the post-restart 400 / 40, then +1,000 / +100 = 3,400 / 340
    # llama.cpp: +1,000 / +100, the new pod's whole 250 / 25 (it started after the checkpoint), +1,000 / +100
    tokens = {m["model"]: (m["inputTokens"], m["outputTokens"]) for m in st["byModel"]}
    assert tokens == {"m-vllm": (3_400, 340), "m-llama": (2_250, 225)}
    # energy: 2 x 0.5 = 1 kWh; then the counters went down, so power: (500 + 400) / 2 W x 1 h x 2 = 0.9 kWh;
    # then 1 kWh: 2.9 kWh in all, $0.29 at $0.10; amortization 3 h x $3.60 = $10.80: $11.09, half each pod
    assert D(str(st["energyKWh"])) == D("2.9")
    assert D(str(st["estimatedCostUSD"])) == D("11.09") and D(str(st["idleCostUSD"])) == 0
    assert {m["model"]: D(str(m["estimatedCostUSD"])) for m in st["byModel"]} == {
        "m-vllm": D("5.545"),
        "m-llama": D("5.545"),
    }
    check_invariants(st)


@pytest.mark.usefixtures("installed")
def test_vllm_restart_that_outgrew_its_old_counter_is_caught_by_its_created_samples(
    kube: KubeClient,
    sim: Sim,
    namespace: str,
    new_ip: NewIp,
) -> None:
    w = flat_world(kube, sim, namespace, 1)
    ip = new_ip()
    w.inference_pod("vllm-0", namespace, ip, "m", backend="vllm", gpus=1)
    first, second = 1_776_000_000.25, 1_776_003_600.5  # the process start and _created samples of each run

    sim.write(ip, 8000, metricsgen.vllm("m", 1_000, 100, started=first))
    reconcile(namespace, T0)
    sim.write(ip, 8000, metricsgen.vllm("m", 3_000, 300, started=first))
    reconcile(namespace, T1)
    # the container restarts and serves 5,000 / 500 before the next pass: more than it had, so only its
    # new _created samples tell the restart; it is all new: 2,000 + 5,000 = 7,000 / 700, not 4,000 / 400
    sim.write(ip, 8000, metricsgen.vllm("m", 5_000, 500, started=second))
    reconcile(namespace, T2)
    st = status_of(kube, "usagereports", namespace, "daily")
    assert total_tokens(st) == (7_000, 700)
    (entry,) = st["checkpoint"]["pods"]
    assert [s["startedAt"] for s in entry["series"]] == ["2026-04-12T14:20:00.5Z"]
    sim.write(ip, 8000, metricsgen.vllm("m", 6_000, 600, started=second))
    reconcile(namespace, "2026-04-20T13:00:00Z")
    st = status_of(kube, "usagereports", namespace, "daily")
    assert total_tokens(st) == (8_000, 800)
    assert total_usd(st) == D("10.8")  # 3 h x $3.60, the pod holding the profile's one GPU
    check_invariants(st)
