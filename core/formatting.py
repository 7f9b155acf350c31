"""The one way numbers and money read in the product: pages, emails, records, Slack, exports."""

from decimal import Decimal

MONEY_UNITS = ("USD", "$")
SILENT_UNITS = ("score",)  # "4.8 score" reads worse than "4.8"
MISSING = "—"


def is_money_unit(unit: str | None) -> bool:
    """Say whether a metric unit is dollars."""
    return (unit or "").strip().upper() in MONEY_UNITS


def money(value: Decimal | float | int | None) -> str:
    """Format an amount as compact dollars: $950, $12.4K, $3.1M."""
    if value is None:
        return MISSING
    amount = float(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(amount) >= limit:
            return f"${amount / limit:,.1f}".removesuffix(".0") + suffix
    return f"${amount:,.0f}"


_money = money  # `number` takes a `money` flag that hides the function's name


def plain(value: Decimal | float | None) -> str:
    """Format a metric value without unit: 64.5714 → 64.57, 1234.5 → 1,235 ("—" when missing)."""
    if value is None:
        return MISSING
    number = Decimal(str(value))
    places = Decimal(1) if abs(number) >= 100 else Decimal("0.01")
    return f"{number.quantize(places).normalize():,f}"


def number(value, unit: str | None = None, *, money: bool = False) -> str:
    """Format a metric value with its unit: `$1.2M`, `3.6 hours`, `92%`."""
    if value is None:
        return MISSING
    if money or is_money_unit(unit):
        return _money(value)
    v = float(value)
    digits = 0 if abs(v) >= 100 else 1 if abs(v) >= 10 else 2
    shown = f"{v:,.{digits}f}"
    if digits:
        shown = shown.rstrip("0").rstrip(".")
    unit = (unit or "").strip()
    if not unit or unit in SILENT_UNITS:
        return shown
    if unit == "%":
        return f"{shown}%"
    if unit == "× cost":
        return f"{v:.2f}× its cost"
    return f"{shown} {unit}"


def value_text(amount: Decimal | None, unit: str | None) -> str | None:
    """Format a stored value with its unit, or None when there is none: '$120K', '42%'."""
    return None if amount is None else number(amount, unit)


def duration(hours: float | None) -> str:
    """Format a duration given in hours the way people say it: 12 min, 5.5 h, 3.2 days."""
    if hours is None:
        return MISSING
    if hours < 1:
        return "< 1 min" if hours < 1 / 60 else f"{hours * 60:.0f} min"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"
