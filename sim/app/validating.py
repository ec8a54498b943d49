"""``breakerlab validate``: files, shipped scenario names, and directories of them.

A directory stands for every YAML file under it (``.yaml`` and ``.yml``, hidden folders
left out), as ``tune`` takes a directory of scenarios: each is checked as a scenario, a
shop model or a breaker policy (``models/policies/*.yaml``). A YAML file that is none of
them (a production configuration a scenario reads through ``from:``) is listed as
skipped, never silently passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from sim.app.inputs import describe_file, scenario_path
from sim.config import Configuration, ShopModel
from sim.config.scenario import Scenario
from sim.config.yamlio import LineMap, load_yaml
from sim.errors import ConfigError

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Checked:
    """One file's result: what it holds (``ok``), or why it was not checked (``skipped``)."""

    path: Path
    text: str
    skipped: bool = False


def targets(items: list[str]) -> Iterator[str | Path]:
    """The files to check: each item as given, a directory as every YAML file under it
    (sorted); a directory without any is bad input."""
    for item in items:
        path = Path(item)
        if not path.is_dir():
            yield item
            continue
        found = sorted(
            p
            for p in path.rglob("*")
            if p.suffix.lower() in YAML_SUFFIXES
            and p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not found:
            raise ConfigError("a directory without any .yaml or .yml file", file=path)
        yield from found


def check(item: str | Path, *, allow_large: bool = False, in_directory: bool = False) -> Checked:
    """Check one file (or shipped scenario name): a ConfigError when it is bad. Found in a
    directory, a YAML file that is no breakerlab file is skipped, and says so."""
    path = scenario_path(item) if isinstance(item, str) else item
    data, lines = load_yaml(path)
    if isinstance(data, dict) and "library" in data and "defaults" in data:
        return Checked(path, _policy(path, data, lines))
    if in_directory and not _ours(data):
        return Checked(path, "not a scenario, model or breaker policy", skipped=True)
    checked, text = describe_file(path, allow_large=allow_large)
    return Checked(checked, text)


def _ours(data: object) -> bool:
    """Whether a top-level key names a scenario's or a model's field."""
    if not isinstance(data, dict):
        return False
    known = set(Scenario.model_fields) | set(ShopModel.model_fields)
    return any(isinstance(key, str) and key in known for key in data)


def _policy(path: Path, data: dict[str, object], lines: LineMap) -> str:
    """A breaker policy file: its defaults are a valid breaker of its library."""
    library = data["library"]
    defaults = data["defaults"]
    if not isinstance(library, str) or not isinstance(defaults, dict):
        raise ConfigError("a policy file holds 'library: NAME' and 'defaults: {...}'", file=path)
    try:
        Configuration.model_validate({"payment": {"breaker": {"preset": library, **defaults}}})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = [p for p in first["loc"][2:] if p != library]  # pydantic names the preset
        message = str(first["msg"]).removeprefix("Value error, ")
        raise lines.error(message, ("defaults", *loc)) from None
    return f"breaker policy of {library}: {len(defaults)} parameter(s)"


def validate(items: list[str], *, allow_large: bool = False) -> Iterator[Checked | ConfigError]:
    """Every file of ``items`` checked in turn (directories expanded): its result, or the
    ConfigError that says what is wrong with it (the others are still checked)."""
    for item in items:
        in_directory = Path(item).is_dir()
        try:
            found = list(targets([item]))
        except ConfigError as exc:
            yield exc
            continue
        for path in found:
            try:
                yield check(path, allow_large=allow_large, in_directory=in_directory)
            except ConfigError as exc:
                yield exc
