"""Prometheus metrics, in a registry of the app's own so that several apps never share counters."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "stance_requests",
            "HTTP requests by route template, method and status code.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "stance_request_duration_seconds",
            "Time from request received to response sent, by route template.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.micro_batch_size = Histogram(
            "stance_micro_batch_size",
            "Texts per forward pass of the micro-batcher.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "stance_predictions",
            "Predicted labels.",
            ["label"],
            registry=self.registry,
        )
        self.model = Gauge(
            "stance_model_info",
            "The model version being served (value 1); absent while none is loaded.",
            ["version", "base_model"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "stance_model_reloads",
            "Model versions loaded and put in service, the first one included.",
            registry=self.registry,
        )
        self.reload_failures = Counter(
            "stance_model_reload_failures",
            "Model versions refused because they could not be loaded or failed the checks.",
            registry=self.registry,
        )

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def observe_batch(self, labels: Iterable[str], size: int) -> None:
        self.micro_batch_size.observe(size)
        for label in labels:
            self.predictions.labels(label).inc()

    def serving(self, version: str, base_model: str) -> None:
        self.model.clear()
        self.model.labels(version, base_model).set(1)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
