"""What one pass saw: every scraped endpoint parsed once, DCGM readings per profile, pods per report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from ..core.cost import GpuEnergy
from ..core.deltas import PodObservation, SeriesSamples, TokenCounter
from ..core.profile import DcgmOutcome
from ..kube import discovery
from ..kube.discovery import Endpoint
from ..kube.scrape import ScrapeResult
from ..metrics import GpuReading, MetricsParseError, extract_gpus, extract_tokens


@dataclass
class Parsed:
    """Each endpoint parsed once; ``failures`` says why an endpoint cannot be used (HTTP, transport, parse)."""

    tokens: dict[Endpoint, dict[str, TokenCounter]] = field(default_factory=dict)
    gpus: dict[Endpoint, list[GpuReading]] = field(default_factory=dict)
    failures: dict[Endpoint, str] = field(default_factory=dict)
    samples: dict[Endpoint, dict[str, SeriesSamples]] = field(default_factory=dict)  # history sources only
    read_window: tuple[datetime, datetime] | None = None  # when reading the counters began and ended

    def fail(self, endpoint: Endpoint, error: str | None) -> None:
        self.failures[endpoint] = f"{endpoint.namespace}/{endpoint.pod}:{endpoint.port}: {error}"

    def failure_lines(self, endpoints: Iterable[Endpoint]) -> list[str]:
        return [self.failures[e] for e in sorted(set(endpoints), key=_order) if e in self.failures]


def _moment(seconds: float | None) -> datetime | None:
    """A counter's start as a time; one past what a datetime holds says nothing (no restart signal)."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _order(e: Endpoint) -> tuple[str, str, int, str]:
    return (e.namespace, e.pod, e.port, e.path)


def parse_all(
    inference: Iterable[discovery.InferencePod],
    exporters: Iterable[discovery.ExporterPod],
    scraped: dict[Endpoint, ScrapeResult],
) -> Parsed:
    parsed = Parsed()
    for pod in {p.endpoint: p for p in inference}.values():
        result = scraped[pod.endpoint]
        if result.text is None:
            parsed.fail(pod.endpoint, result.error)
            continue
        try:
            counters = extract_tokens(result.text, pod.backend, default_model=pod.model).counters
        except MetricsParseError as exc:
            parsed.fail(pod.endpoint, str(exc))
            continue
        parsed.tokens[pod.endpoint] = {
            k: TokenCounter(c.model, c.input, c.output, _moment(c.started)) for k, c in counters.items()
        }
    for exp in {e.endpoint: e for e in exporters}.values():
        result = scraped[exp.endpoint]
        if result.text is None:
            parsed.fail(exp.endpoint, result.error)
            continue
        try:
            parsed.gpus[exp.endpoint] = extract_gpus(result.text)
        except MetricsParseError as exc:
            if any(line.startswith("DCGM_FI_") for line in result.text.splitlines()):
                parsed.fail(exp.endpoint, str(exc))
            else:
                parsed.gpus[exp.endpoint] = []  # it answered, with no GPU readings at all (DCGMNoReadings)
    return parsed


def dcgm_outcome(exporters: list[discovery.ExporterPod], nodes: list[str], parsed: Parsed) -> DcgmOutcome:
    """GPUs unique by UUID across exporters (a DaemonSet surge runs two on one node): each counts once."""
    failed: list[str] = []
    gpus: dict[str, GpuEnergy] = {}
    models: dict[str, str] = {}
    owner: dict[str, tuple[str, str]] = {}
    for exp in exporters:
        if exp.endpoint in parsed.failures:
            failed.append(f"{exp.namespace}/{exp.name}: {parsed.failures[exp.endpoint].split(': ', 1)[1]}")
            continue
        for r in parsed.gpus.get(exp.endpoint, []):
            if r.uuid in gpus:
                continue  # the same GPU seen by another exporter pod: the first (by node, pod name) counts
            power = None if r.power_watts is None else Decimal(repr(r.power_watts))
            # The exporter pod's node is authoritative, whatever its Hostname label says.
            gpus[r.uuid] = GpuEnergy(r.uuid, exp.node, r.energy_mj, power, parsed.read_window)
            if r.model_name:
                models[r.uuid] = r.model_name
            if r.pod and r.namespace:
                owner[r.uuid] = (r.namespace, r.pod)
    return DcgmOutcome(nodes, len(exporters), failed, list(gpus.values()), models, dict(Counter(owner.values())))


def observe_pods(scope: list[discovery.InferencePod], parsed: Parsed, dcgm: DcgmOutcome) -> list[PodObservation]:
    observations = []
    for pod in scope:
        gpus = dcgm.owners.get((pod.namespace, pod.name)) or pod.gpu_limit
        series = parsed.tokens.get(pod.endpoint)
        samples = parsed.samples.get(pod.endpoint)
        observations.append(
            PodObservation(
                pod.uid, pod.namespace, pod.name, pod.model, pod.started, gpus, series, samples, parsed.read_window
            )
        )
    return observations
