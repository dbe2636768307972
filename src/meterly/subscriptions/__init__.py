"""Subscriptions, their changes over time, one-off purchases, upcoming invoice, entitlements."""
