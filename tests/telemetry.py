"""In-memory OpenTelemetry for tests: every span and metric of this pytest process, readable.

The SDK accepts a global tracer and meter provider once per process, so every test that looks at
spans or metrics shares this one (installed on first use; tests filter by their own attributes).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, Metric
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass(frozen=True)
class InMemoryTelemetry:
    spans: InMemorySpanExporter
    reader: InMemoryMetricReader

    def finished_spans(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def metrics(self) -> Iterator[Metric]:
        """Every metric collected now (observable gauges call their callbacks)."""
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                yield from scope.metrics


@functools.cache
def in_memory_telemetry() -> InMemoryTelemetry:
    provider = TracerProvider()
    spans = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(provider)
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    assert trace.get_tracer_provider() is provider, "another tracer provider was installed first"
    return InMemoryTelemetry(spans, reader)
