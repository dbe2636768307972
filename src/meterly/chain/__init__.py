"""Chain billing: a reseller billed wholesale for its subtree's usage and seats, and margins."""
