"""Metering: meter specs and the pure rules that evaluate them."""
