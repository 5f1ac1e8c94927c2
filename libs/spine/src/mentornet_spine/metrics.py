"""The spine's metrics: handler latency, dead letters, outbox backlog and consumer lag.

Instruments are made on the API's global meter, so they cost nothing until a meter provider is
installed (``mentornet_spine.telemetry``) and then report to it. The two gauges (consumer lag,
outbox backlog) are sampled by ``mentornet_spine.sampling``.
"""

from __future__ import annotations

from opentelemetry import metrics

meter = metrics.get_meter("mentornet.spine")

#: seconds: from a cached lookup to a slow batch of hundreds of events
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

handler_latency = meter.create_histogram(
    "mentornet.handler.duration",
    unit="s",
    description="Time to apply a fetched batch of events",
    explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_S,
)
events_handled = meter.create_counter("mentornet.handler.events", description="Events handled, by outcome")
dead_letters = meter.create_counter(
    "mentornet.dead_letters", description="Events sent to a dead-letter subject"
)
outage_retries = meter.create_counter(
    "mentornet.handler.outage_retries",
    description="Batches retried in place because the database was unavailable",
)
events_relayed = meter.create_counter("mentornet.outbox.relayed", description="Events published by the relay")
events_parked = meter.create_counter(
    "mentornet.outbox.parked", description="Events the relay could not publish and dead-lettered"
)
events_rewound = meter.create_counter(
    "mentornet.outbox.rewound",
    description="Committed events published again because the stream had lost them (reconciliation)",
)
