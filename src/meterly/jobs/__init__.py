"""Durable jobs: a table the worker claims from (SKIP LOCKED on PostgreSQL)."""
