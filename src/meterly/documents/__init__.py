"""Invoice and credit-note documents (PDF, HTML, CSV), always in the seller's own brand."""
