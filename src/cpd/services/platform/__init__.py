"""The platform context: the outbox relay and the task runner."""
