"""How many decimals each currency's amounts are paid in (its ISO 4217 minor unit): read by the
interpreter, which rounds money to it, and by the checker, which warns about an expected amount
written finer than it. A module of its own so that the checker need not import the
interpreter."""

# The currencies whose minor unit is not the cent.
MINOR_DIGITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "HUF": 2, "BHD": 3, "KWD": 3,
                "OMR": 3, "JOD": 3, "TND": 3}


def minor_digits(currency: str | None) -> int:
    return MINOR_DIGITS.get(currency or "", 2)
