"""The spine's metrics: handler latency, dead letters, outbox backlog and consumer lag."""

from __future__ import annotations

from opentelemetry import metrics

meter = metrics.get_meter("mentornet.spine")

handler_latency = meter.create_histogram(
    "mentornet.handler.duration", unit="s", description="Time to apply a fetched batch of events"
)
events_handled = meter.create_counter("mentornet.handler.events", description="Events handled, by outcome")
dead_letters = meter.create_counter(
    "mentornet.dead_letters", description="Events sent to a dead-letter subject"
)
events_relayed = meter.create_counter("mentornet.outbox.relayed", description="Events published by the relay")
