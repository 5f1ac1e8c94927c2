"""The runtime spine shared by MentorNet services: event store, outbox relay, consumers, projections."""
