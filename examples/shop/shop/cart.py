"""A shopping cart with prices in cents, so that money is never a float."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Cart:
    items: dict[str, tuple[int, int]] = field(default_factory=dict)  # sku -> (unit price, quantity)

    def add(self, sku: str, price: int, quantity: int = 1) -> None:
        if quantity <= 0:
            raise ValueError(f"quantity must be positive, got {quantity}")
        _, held = self.items.get(sku, (price, 0))
        self.items[sku] = (price, held + quantity)

    def total(self, discount_pct: int = 0) -> int:
        gross = sum(price * quantity for price, quantity in self.items.values())
        return gross - gross * discount_pct // 100
