"""Webhooks: an outbox written with the change, delivered and signed by the worker."""
