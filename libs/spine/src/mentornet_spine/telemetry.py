"""OpenTelemetry set-up: OTLP when configured, console on request, otherwise the API's no-op.

Without an exporter the SDK would record every span and metric only to drop it, at about a
quarter of a read request's CPU; trace context still travels in events either way.

Structured JSON logs carry the current trace and span ids so a log line leads to its trace.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from mentornet_spine.settings import SpineSettings


def setup_telemetry(settings: SpineSettings) -> TracerProvider | None:
    """Install the SDK's providers if traces and metrics have somewhere to go (OTLP or console)."""
    if not (settings.otlp_endpoint or settings.otel_console):
        return None
    resource = Resource.create(
        {"service.name": f"mentornet-{settings.service}", "service.namespace": "mentornet"}
    )
    provider = TracerProvider(resource=resource)
    readers: list[MetricReader] = []
    interval_ms = settings.metrics_interval * 1000
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        readers.append(
            PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=interval_ms)
        )
    elif settings.otel_console:
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        readers.append(
            PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=interval_ms)
        )
    trace.set_tracer_provider(provider)
    metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))
    return provider


def tracing_enabled() -> bool:
    """An SDK tracer provider is installed (by ``setup_telemetry`` or a test)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def metrics_enabled() -> bool:
    """An SDK meter provider is installed, so sampled gauges are worth their queries."""
    return isinstance(metrics.get_meter_provider(), MeterProvider)


class JsonFormatter(logging.Formatter):
    """One JSON object a line; ``trace_id``/``span_id`` of the current span when there is one."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.service:
            entry["service"] = self.service
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            entry["trace_id"] = f"{ctx.trace_id:032x}"
            entry["span_id"] = f"{ctx.span_id:016x}"
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(settings: SpineSettings, level: int = logging.INFO) -> None:
    """JSON lines by default (``LOG_FORMAT=json``); ``LOG_FORMAT=text`` for a human at a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.json_logs:
        handler.setFormatter(JsonFormatter(settings.service))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
