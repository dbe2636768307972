"""Plans: versioned bundles of charges and entitlements, in feature-level ladders."""
