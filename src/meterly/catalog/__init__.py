"""Catalog: products, features, price books and prices, each owned by a seller account."""
