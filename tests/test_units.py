"""Quantities as people type them: durations, rates and shares, and refusals of junk."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.units import format_duration, parse_duration, parse_fraction, parse_rate


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("30s", 30.0),
        ("10m", 600.0),
        ("2h", 7200.0),
        ("1m30s", 90.0),
        ("1h30m", 5400.0),
        ("1min30s", 90.0),
        ("1.5h", 5400.0),
        ("500us", 0.0005),
        ("1d", 86400.0),
        (" 30 s ", 30.0),
        ("30S", 30.0),
        ("1e3ms", 1.0),
        ("2.5", 2.5),
        ("0", 0.0),
        (45, 45.0),
        (0.5, 0.5),
    ],
)
def test_parse_duration_accepts_units_and_bare_seconds(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


def test_parse_duration_returns_plain_float() -> None:
    value = parse_duration(30)
    assert type(value) is float
    assert value == 30.0


@pytest.mark.parametrize(
    ("junk", "fragment"),
    [
        ("abc", "expected a duration"),
        ("", "expected a duration"),
        ("ms", "expected a duration"),
        ("1m30", "expected a duration"),
        ("10 parsecs", "unknown duration unit 'parsecs'"),
        ("5y", "unknown duration unit 'y'"),
        ("40/s", "expected a duration"),
        ("50%", "expected a duration"),
        ("inf", "'inf' is not a finite number"),
        ("nan", "'nan' is not a finite number"),
        (math.inf, "not a finite number"),
        (True, "expected a duration"),
        (None, "expected a duration"),
        ([30], "expected a duration"),
    ],
)
def test_parse_duration_refuses_junk_with_a_message(junk: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=r".") as info:
        parse_duration(junk)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("text", "per_second"),
    [
        ("400/s", 400.0),
        ("40/sec", 40.0),
        ("1200/min", 20.0),
        ("1200/m", 20.0),
        ("36/h", 0.01),
        ("86400/d", 1.0),
        (" 40 / s ", 40.0),
        ("40/S", 40.0),
        ("2.5/s", 2.5),
        ("12", 12.0),
        (12, 12.0),
        (0.5, 0.5),
    ],
)
def test_parse_rate_accepts_units_and_bare_numbers(text: object, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize(
    ("junk", "fragment"),
    [
        ("5s", "expected a rate"),
        ("fast", "expected a rate"),
        ("40/", "expected a rate"),
        ("/s", "expected a rate"),
        ("40/s/s", "expected a rate"),
        ("40/fortnight", "unknown rate unit '/fortnight'"),
        ("40/ms", "unknown rate unit '/ms'"),
        ("1e400/s", "not a finite number"),
        ("inf", "'inf' is not a finite number"),
        (math.nan, "not a finite number"),
        (True, "expected a rate"),
        (None, "expected a rate"),
    ],
)
def test_parse_rate_refuses_junk_with_a_message(junk: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=r".") as info:
        parse_rate(junk)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("text", "fraction"),
    [
        ("2%", 0.02),
        ("0.5%", 0.005),
        ("2 %", 0.02),
        ("100%", 1.0),
        ("0%", 0.0),
        (0.02, 0.02),
        ("0.02", 0.02),
        (0, 0.0),
        (1, 1.0),
        ("1", 1.0),
    ],
)
def test_parse_fraction_accepts_percentages_and_fractions(text: object, fraction: float) -> None:
    assert parse_fraction(text) == pytest.approx(fraction)


@pytest.mark.parametrize("ambiguous", [50, 50.0, "50", 1.5])
def test_parse_fraction_refuses_bare_number_above_one_and_suggests_percent(
    ambiguous: object,
) -> None:
    with pytest.raises(ValueError, match=r"above 1") as info:
        parse_fraction(ambiguous)
    assert f"'{ambiguous}%'" in str(info.value)


@pytest.mark.parametrize(
    ("junk", "fragment"),
    [
        ("150%", "outside 0%..100%"),
        ("-5%", "outside 0%..100%"),
        (-0.1, "outside 0%..100%"),
        ("two percent", "expected a percentage"),
        ("2%%", "expected a percentage"),
        ("", "expected a percentage"),
        ("nan", "not a finite number"),
        (True, "expected a percentage"),
        (None, "expected a percentage"),
        ([0.5], "expected a percentage"),
    ],
)
def test_parse_fraction_refuses_junk_with_a_message(junk: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=r".") as info:
        parse_fraction(junk)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(7200.0, "2h"), (600.0, "10m"), (90.0, "90s"), (30.0, "30s"), (0.25, "250ms")],
)
def test_format_duration_is_short(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**9))
def test_format_then_parse_duration_round_trips(milliseconds: int) -> None:
    seconds = milliseconds / 1000
    # format_duration keeps six significant digits, as %g does.
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, rel=1e-5)
