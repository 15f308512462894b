"""Orders in SQLite, with the classic mistake the demo should catch: one query per customer (N+1)."""

from __future__ import annotations

import json
import sqlite3
import urllib.request


class OrderStore:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection
        self.db.execute("CREATE TABLE IF NOT EXISTS orders (customer TEXT, total REAL)")

    def add(self, customer: str, total: float) -> None:
        self.db.execute("INSERT INTO orders (customer, total) VALUES (?, ?)", (customer, total))

    def totals_by_customer(self) -> dict[str, float]:
        customers = [row[0] for row in self.db.execute("SELECT DISTINCT customer FROM orders ORDER BY customer")]
        return {  # one query per customer: GROUP BY would do it in one
            name: self.db.execute("SELECT SUM(total) FROM orders WHERE customer = ?", (name,)).fetchone()[0]
            for name in customers
        }


def current_price(base_url: str, sku: str) -> float:
    """Asks the price service; the demo's suite calls it for real instead of mocking it."""
    with urllib.request.urlopen(f"{base_url}/prices/{sku}?currency=EUR", timeout=5) as response:
        return float(json.load(response)["price"])
