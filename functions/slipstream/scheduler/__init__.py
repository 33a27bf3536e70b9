"""The event-driven scheduler's entry points: what the stream and timer functions do."""
