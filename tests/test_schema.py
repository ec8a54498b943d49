"""The JSON Schemas shipped in the package: current, pointed at by every shipped YAML file,
and as strict about units as the loader (so an editor flags what breakerlab would refuse)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from sim import __version__
from sim.config.schema import SCHEMAS, SHIPPED, render
from sim.examples import MODELINE
from sim.units import (
    DURATION_PATTERN,
    FRACTION_PATTERN,
    RATE_PATTERN,
    parse_duration,
    parse_fraction,
    parse_rate,
)

ROOT = Path(__file__).resolve().parent.parent
YAML_FILES = sorted(
    [
        *ROOT.glob("scenarios/*.yaml"),
        *ROOT.glob("models/**/*.yaml"),
        *ROOT.glob("tests/golden/*.yaml"),
    ]
)


@pytest.mark.parametrize("filename", list(SCHEMAS))
def test_shipped_schema_is_current(filename: str) -> None:
    """sim/schemas/ is what the models generate: run `make schemas` after changing them."""
    assert (SHIPPED / filename).read_text(encoding="utf-8") == render(filename)


@pytest.mark.parametrize("filename", list(SCHEMAS))
def test_schema_is_valid_and_names_itself(filename: str) -> None:
    schema = json.loads(render(filename))
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"urn:breakerlab:{__version__}:{filename.split('.')[0]}"


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_yaml_points_at_a_schema_that_accepts_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    match = MODELINE.fullmatch(first)
    assert match, f"{path.name}: first line should be the yaml-language-server hint"
    schema_path = (path.parent / match.group(1)).resolve()
    assert schema_path.parent == SHIPPED and schema_path.is_file()
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    errors = list(Draft202012Validator(schema).iter_errors(yaml.safe_load(text)))
    assert [e.message for e in errors] == []


def scenario_schema() -> Draft202012Validator:
    return Draft202012Validator(json.loads(render("scenario.schema.json")))


@pytest.mark.parametrize(
    ("field", "value"),
    [("horizon", "60 parsecs"), ("horizon", "10 minutes later"), ("warmup", "5x")],
)
def test_schema_rejects_a_unit_the_loader_rejects(field: str, value: str) -> None:
    document = yaml.safe_load((ROOT / "scenarios/flash_sale_gateway_outage.yaml").read_text())
    assert not list(scenario_schema().iter_errors(document))
    document[field] = value
    assert list(scenario_schema().iter_errors(document))
    with pytest.raises(ValueError):
        parse_duration(value)


def test_policy_schema_flags_a_misspelt_parameter() -> None:
    validator = Draft202012Validator(json.loads(render("policy.schema.json")))
    document = yaml.safe_load((ROOT / "models/policies/polly.yaml").read_text())
    assert not list(validator.iter_errors(document))
    document["defaults"]["failure_ration"] = 0.2
    assert list(validator.iter_errors(document))
    document["defaults"].pop("failure_ration")
    document["library"] = "hystrix"  # polly's parameters are not hystrix's
    assert list(validator.iter_errors(document))


def accepts(parser: object, text: str) -> bool:
    try:
        parser(text)  # type: ignore[operator]
    except ValueError as exc:
        return "not a finite number" in str(exc)  # the pattern cannot see overflow
    return True


NUMBERS = ["0", "5", "12", "1.5", ".5", "2.", "1e3", "-3", "+4", "1.5e-2", "e", "."]
UNITS = ["", "ms", "s", "sec", "m", "min", "h", "H", "Ms", "d", "us", "µs", "parsecs", "x"]
UNITS += ["/s", "/min", "/H", "/d", "/parsec", "/", "%", " %", "%%"]
SPACE = st.sampled_from(["", " "])
TOKEN = st.tuples(SPACE, st.sampled_from(NUMBERS), SPACE, st.sampled_from(UNITS), SPACE)
QUANTITY = st.one_of(
    st.lists(TOKEN.map("".join), min_size=1, max_size=3).map("".join),
    st.text(alphabet="0123456789.eE+- /%smhdµuincSMH", max_size=8),
)


@pytest.mark.parametrize(
    ("pattern", "parser"),
    [
        (DURATION_PATTERN, parse_duration),
        (RATE_PATTERN, parse_rate),
        (FRACTION_PATTERN, parse_fraction),
    ],
    ids=["duration", "rate", "fraction"],
)
@given(text=QUANTITY)
@example(text="1e350")  # matches, and overflows: the loader must say so (it did not)
@example(text="2e400s")
def test_unit_patterns_accept_what_the_parsers_accept(
    pattern: str, parser: object, text: str
) -> None:
    """The schema's pattern and the loader agree on every string, except range checks the
    pattern does not express (a fraction above 1, a negative share)."""
    matched = re.fullmatch(pattern, text) is not None
    parsed = accepts(parser, text)
    if parsed:
        assert matched, f"{text!r} parses but the schema would flag it"
    elif matched and parser is not parse_fraction:
        raise AssertionError(f"{text!r} matches the schema but does not parse")
