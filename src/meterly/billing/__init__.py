"""Billing: bill runs, invoices, credit notes, credits, discounts, taxes, payments."""
