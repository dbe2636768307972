"""The money around an invoice: prepaid credits, discounts and coupons, taxes and regulatory
surcharges, payments and credit notes. Pure rules (discounts, tax, credits, creditable) import
no I/O; services read and write the ledger; `billing.adjustments.apply` ties them to invoices."""
