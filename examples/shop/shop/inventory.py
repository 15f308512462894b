"""Stock levels, with a slow "warehouse" lookup standing in for a remote service."""

from __future__ import annotations

import random
import time


class Inventory:
    def __init__(self, stock: dict[str, int]) -> None:
        self.stock = dict(stock)

    def reserve(self, sku: str, quantity: int) -> bool:
        if self.stock.get(sku, 0) < quantity:
            return False
        self.stock[sku] -= quantity
        return True

    def warehouse_count(self, sku: str) -> int:
        """Slow on purpose, and sometimes late: the source of the example suite's slow and flaky tests."""
        time.sleep(0.05 + random.random() * 0.05)
        return self.stock.get(sku, 0)
