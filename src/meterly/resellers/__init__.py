"""Resellers: one-step onboarding (account, key, profile, marked-up retail book) and every
seller's billing profile and brand."""
