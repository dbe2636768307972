"""Meterly: count, bill, monitor and drive micro-transactions through reseller chains."""

__version__ = "0.1.0"
