"""Units at their boundaries, with values written out by hand: each unit's factor, the
exact instants where format_duration changes unit, and the messages that name the input."""

from __future__ import annotations

import re

import pytest

from sim.units import (
    DURATION_PATTERN,
    _any_case,
    format_duration,
    parse_duration,
    parse_fraction,
    parse_rate,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3µs", 3e-6),
        ("3us", 3e-6),
        ("3ms", 3e-3),
        ("3s", 3.0),
        ("3sec", 3.0),
        ("3m", 180.0),
        ("3min", 180.0),
        ("3h", 10800.0),
        ("3d", 259200.0),
        ("1sec500ms", 1.5),
    ],
)
def test_every_duration_unit_has_its_factor(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-12)


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("6/s", 6.0), ("6/sec", 6.0), ("6/m", 0.1), ("6/min", 0.1), ("36/h", 0.01), ("864/d", 0.01)],
)
def test_every_rate_unit_has_its_factor(text: str, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second, rel=1e-12)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0ms"),
        (0.25, "250ms"),
        (0.999, "999ms"),
        (1, "1s"),
        (1.5, "1.5s"),
        (59, "59s"),
        (60, "1m"),
        (61, "61s"),
        (90, "90s"),
        (120, "2m"),
        (3599, "3599s"),
        (3600, "1h"),
        (3660, "61m"),
        (5400, "90m"),
        (7200, "2h"),
        (86400, "24h"),
    ],
)
def test_format_duration_changes_unit_exactly_at_whole_units(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_any_case_matches_each_word_in_any_letter_case_longest_first() -> None:
    assert _any_case(["s", "min"]) == "[mM][iI][nN]|[sS]"
    assert _any_case(["µs"]) == "µ[sS]"  # µ is not ASCII: its upper case (Greek Μ) is no unit
    alternation = re.compile(rf"^(?:{_any_case(['ms', 'm'])})$")
    assert all(alternation.match(w) for w in ("ms", "MS", "mS", "Ms", "m", "M"))
    assert not alternation.match("Μs")


def test_duration_pattern_accepts_what_the_parser_accepts() -> None:
    pattern = re.compile(DURATION_PATTERN)
    for text in ("250MS", "1Min30S", "5µs", "2.5", "3 SEC"):
        assert pattern.match(text), text
        parse_duration(text)
    assert not pattern.match("40/s")


@pytest.mark.parametrize("text", ["30/s", "5%", "1/2s"])
def test_a_rate_or_share_for_a_duration_gets_the_short_message(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == f"expected a duration like '250ms' or '30s', got {text!r}"


def test_an_unknown_duration_unit_lists_the_known_ones() -> None:
    with pytest.raises(ValueError) as info:
        parse_duration("5y")
    assert str(info.value) == (
        "unknown duration unit 'y' in '5y' (use one of d, h, m, min, ms, s, sec, us, µs)"
    )


@pytest.mark.parametrize(
    ("parse", "value"),
    [
        (parse_duration, 1e400),
        (parse_duration, "1e400"),
        (parse_duration, "1e400s"),
        (parse_rate, float("inf")),
        (parse_rate, "1e400/s"),
    ],
)
def test_a_number_too_large_names_the_input(parse: object, value: object) -> None:
    with pytest.raises(ValueError) as info:
        parse(value)  # type: ignore[operator]
    assert str(info.value) == f"{value!r} is not a finite number"


def test_a_fraction_not_finite_names_the_input() -> None:
    with pytest.raises(ValueError) as info:
        parse_fraction("nan")
    assert str(info.value) == "'nan' is not a finite number"


@pytest.mark.parametrize("text", ["1.5", "2"])
def test_a_bare_share_above_one_asks_for_a_percent_sign(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_fraction(text)
    assert str(info.value) == f"{text!r} is above 1: write '{text}%' for a percentage"
