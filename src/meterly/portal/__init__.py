"""The customer portal: a white-label, read-only page per customer, opened by a short-lived link."""
