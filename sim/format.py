"""Numbers for people: one formatter for every table, sentence, figure label and terminal
line (CSV and JSON files keep the numbers themselves).

Thousands separators, no scientific notation, a unit after the number, and a precision
that fits what is known: about three significant digits for a lone number, and for a
mean with an interval the decimals that show the interval's half-width to one or two
significant digits (``decimals_for``; the mean is given to the same place). NaN (no data)
is a dash.

At the bottom of the layers (beside ``sim.units``) so that analysis, report and app may all
use it; it knows metric names only by their conventions (``_s`` seconds, ``_pct``
percent, ``revenue_*`` money).
"""

from __future__ import annotations

import math

DASH = "–"
CLIPPED = "†"
CLIPPED_NOTE = (
    "†: the 95 % interval reached past a bound the quantity cannot cross (below 0, or above "
    "100 % for a share) and is shown clipped there; clipping never lowers its coverage"
)
# Metrics in money besides every ``revenue_*`` (``revenue_lost_pct`` is a percentage).
MONEY = frozenset({"fees", "refunds", "duplicate_fees"})
MAX_DECIMALS = 6
# Numbers in CSV files (for programs, not people): every significant digit a measurement
# has, without float noise (0.06037999999999993 is written 0.06038) and without the six
# significant digits of %g that wrote 1,234,567.89 as 1.23457e+06.
CSV_FLOATS = "%.12g"


def number(value: float, digits: int = 3) -> str:
    """``62,297``, ``1.82``, ``0.0123``: the whole part always, decimals up to about
    ``digits`` significant digits, trailing zeros dropped; ``–`` for NaN."""
    if math.isnan(value):
        return DASH
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if abs(value) < 1e-9:
        return "0"  # float noise, and never "-0"
    decimals = min(max(0, digits - 1 - math.floor(math.log10(abs(value)))), 12)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "0") else text


def signed(value: float, digits: int = 3) -> str:
    """``+1,234``, ``-0.5``, ``0``: a difference, its sign always shown."""
    text = number(value, digits)
    return "+" + text if value > 0 and text not in ("0", DASH) else text


def fixed(value: float, decimals: int, *, sign: bool = False) -> str:
    """``value`` with exactly ``decimals`` decimals and thousands separators (``–`` for
    NaN; ``0``, never ``-0``)."""
    if math.isnan(value):
        return DASH
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    text = f"{value:,.{decimals}f}"
    if set(text) <= set("-0.,"):
        text = text.lstrip("-")
        return text
    return "+" + text if sign and value > 0 else text


def decimals_for(half: float) -> int:
    """The decimals that show a half-width to two significant digits when they start
    with 1 to 3.54 (0.12, 2.3), else one (0.06, 7): the Particle Data Group's rule, which
    keeps the last digit shown meaningful. 0 for a wide or missing half-width."""
    if not math.isfinite(half) or half <= 0:
        return 0
    exponent = math.floor(math.log10(half))
    lead = half / 10.0**exponent
    digits = 2 if lead < 3.55 else 1
    return min(max(0, digits - 1 - exponent), MAX_DECIMALS)


def with_unit(text: str, unit: str) -> str:
    """``1.2 s``, ``0.82 %``, ``1,234 EUR``; a dash stays a dash."""
    return text if not unit or text == DASH else f"{text} {unit}"


def quantity(value: float, unit: str = "", *, sign: bool = False, digits: int = 3) -> str:
    """One number with its unit: ``2,095 EUR``, ``+0.5 s``."""
    return with_unit(signed(value, digits) if sign else number(value, digits), unit)


def measured(
    mean: float,
    low: float,
    high: float,
    unit: str = "",
    *,
    clipped: bool = False,
    sign: bool = False,
    style: str = "pm",
) -> str:
    """A mean with its interval. ``style="pm"``: ``62,297 ± 9,264`` when the interval is
    symmetric, else (clipped at a bound) ``2,095 [0 to 9,456]†``; ``style="span"``:
    always ``-60,201 [-76,826 to -43,577]``. A zero-width interval (one replication, a
    constant) gives the mean alone; NaN gives a dash."""
    if math.isnan(mean):
        return DASH
    if math.isnan(low) or math.isnan(high) or not high > low:
        return quantity(mean, unit, sign=sign)
    half = (high - low) / 2
    decimals = decimals_for(half)
    shown = fixed(mean, decimals, sign=sign)
    if style == "pm" and not clipped:
        return with_unit(f"{shown} ± {fixed(half, decimals)}", unit)
    ends = f"{fixed(low, decimals, sign=sign)} to {fixed(high, decimals, sign=sign)}"
    return with_unit(f"{shown} [{ends}]", unit) + (CLIPPED if clipped else "")


def ends(low: float, high: float, unit: str = "", *, sign: bool = True) -> str:
    """An interval's ends alone, to the precision of its width: ``-408,777 to -369,125``."""
    if math.isnan(low) or math.isnan(high):
        return DASH
    decimals = decimals_for((high - low) / 2) if high > low else None
    if decimals is None:
        return with_unit(signed(low) if sign else number(low), unit)
    text = f"{fixed(low, decimals, sign=sign)} to {fixed(high, decimals, sign=sign)}"
    return with_unit(text, unit)


def share(fraction: float) -> str:
    """A fraction as a percentage: ``95%``, ``97.5%``, ``0.1%``."""
    if math.isnan(fraction):
        return DASH
    return f"{number(100 * fraction, 4)}%"


def seconds(value: float) -> str:
    """A duration in seconds for a sentence: ``0.5 s``, ``81.3 s``, ``1,800 s (30m)``."""
    if math.isnan(value):
        return DASH
    text = f"{number(value)} s"
    if abs(value) >= 60:
        text += f" ({clock(value)})"
    return text


def clock(value: float) -> str:
    """``30m``, ``1h 5m``, ``1m 21s``: a time of at least a minute, rounded to the second."""
    total = round(abs(value))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    parts += [f"{minutes}m"] if minutes else []
    parts += [f"{secs}s"] if secs or not parts else []
    return ("-" if value < 0 else "") + " ".join(parts)


def unit_of(metric: str, currency: str = "") -> str:
    """A summary metric's unit from its name: ``s``, ``%``, the currency for money, ``""``
    for counts and ratios."""
    if metric.endswith("_pct"):
        return "%"
    if metric.endswith("_s"):
        return "s"
    if metric.startswith("revenue_") or metric in MONEY:
        return currency
    return ""
