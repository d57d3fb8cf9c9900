"""French number formatting, shared by figures, reason codes, the note and the page (no heavy imports)."""

from __future__ import annotations

NARROW_NBSP = "\u202f"


def french_number(x: float, decimals: int = 2) -> str:
    """12345.678 -> '12 345,68' (narrow no-break space for thousands, decimal comma)."""
    return f"{x:,.{decimals}f}".replace(",", NARROW_NBSP).replace(".", ",")


def french_percent(x: float, decimals: int = 0) -> str:
    """0.1234 -> '12 %'."""
    return french_number(100 * x, decimals) + NARROW_NBSP + "%"


def french_list(items: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b et c'; one item alone, and nothing for no item."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]
