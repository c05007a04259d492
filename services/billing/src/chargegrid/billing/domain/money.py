"""Money and quantities as Decimal, and the one rounding rule of billing.

The rule: every line is computed with full precision (exact quantities times unit prices,
VAT per line unrounded); lines are *shown* quantized to 4 decimals but never summed from what
is shown. Totals are the sums of the unrounded lines, rounded once, half-up, to the currency's
minor unit (2 decimals unless ISO 4217 says otherwise): total_excl_vat and total_incl_vat are
rounded, and total_vat = total_incl_vat - total_excl_vat, so the three always add up.
Money strings carry 4 decimals ("4.1100"), quantities 6.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
LINE_PLACES = Decimal("0.0001")
QUANTITY_PLACES = Decimal("0.000001")
MONEY_PLACES = Decimal("0.0001")

#: ISO 4217 currencies whose minor unit is not 2 decimals (the rest use 2).
MINOR_UNITS = {
    "BHD": 3,
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "PYG": 0,
    "RWF": 0,
    "TND": 3,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
}


def minor_unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS.get(currency, 2))


def round_total(amount: Decimal, currency: str) -> Decimal:
    """A total, rounded half-up to the currency's minor unit."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def money_text(amount: Decimal) -> str:
    """4 decimals, half-up: "3.4500"."""
    return f"{amount.quantize(MONEY_PLACES, rounding=ROUND_HALF_UP):f}"


def quantity_text(amount: Decimal) -> str:
    """Up to 6 decimals, trailing zeros dropped: "21", "1.5", "0.416667"."""
    text = f"{amount.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
