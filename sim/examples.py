"""The example models, scenarios, policies, incident traces and notebooks shipped with
breakerlab.

A wheel carries them as package data under ``sim/_examples/`` (see pyproject.toml); a source
checkout has them at the top of the repository. Either way the layout is the same, so a
scenario's relative ``model:`` and trace paths, and a notebook's ``../scenarios/``, resolve
unchanged, and ``breakerlab init`` copies them, ready to edit and run.
"""

from __future__ import annotations

import difflib
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import ConfigError

if TYPE_CHECKING:
    from sim.config import LoadedScenario

PACKAGED = Path(__file__).resolve().parent / "_examples"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
# What `init` copies, relative to the examples root (the first two must be there).
TREES = ("models", "scenarios", "notebooks")
# The editor hint at the top of every shipped YAML file; its path is rewritten on copy.
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)


def examples_root() -> Path:
    """The folder holding ``models/`` and ``scenarios/``: package data in a wheel, the
    repository root in a source checkout."""
    if PACKAGED.is_dir():
        return PACKAGED
    source = Path(__file__).resolve().parent.parent
    if all((source / tree).is_dir() for tree in TREES[:2]):
        return source
    raise ConfigError(
        "this installation holds no example scenarios (sim/_examples is missing); "
        "reinstall breakerlab from a wheel or a source checkout"
    )


def shipped_scenarios() -> dict[str, Path]:
    """Every shipped scenario by name: its file name without ``.yaml``."""
    folder = examples_root() / "scenarios"
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def find_scenario(name_or_path: str | Path) -> Path:
    """An existing file as given; else a shipped scenario by name (``flash_sale_gateway_outage``,
    with or without ``.yaml``, dashes or underscores); else a ConfigError naming the
    shipped ones."""
    path = Path(name_or_path)
    if path.exists():
        return path
    text = str(name_or_path)
    shipped = shipped_scenarios()
    if "/" in text or "\\" in text:  # meant as a path: say only that it is missing
        raise ConfigError("no such file", file=text)
    key = text.removesuffix(".yaml").removesuffix(".yml").replace("-", "_")
    if key in shipped:
        return shipped[key]
    hint = difflib.get_close_matches(key, list(shipped), n=1)
    raise ConfigError(
        "no such file, and no shipped scenario of that name"
        + (f"; did you mean {hint[0]!r}?" if hint else "")
        + f" (shipped: {', '.join(shipped)})",
        file=text,
    )


def load_scenario(name_or_path: str | Path) -> LoadedScenario:
    """A scenario loaded and checked: a file, or a shipped scenario by name
    (``sim.load_scenario("incident_replay")``), as ``sim.run`` takes it."""
    from sim.config import load_scenario as load

    return load(find_scenario(name_or_path))


def copy_examples(destination: str | Path, *, force: bool = False) -> list[Path]:
    """Copy the shipped models, scenarios (with their incident traces), policies, notebooks
    and JSON Schemas into ``destination``; return the files written.

    Refuses, writing nothing, when ``destination`` already holds any of those folders,
    unless ``force`` (then they are replaced). The copy is made in a staging folder beside
    ``destination`` and moved in, so a failure leaves no half-written tree.
    """
    target = Path(destination)
    if target.exists() and not target.is_dir():
        raise ConfigError("exists and is not a directory", file=target)
    names = [*TREES, "schemas"]
    clashes = [name for name in names if (target / name).exists()]
    if clashes and not force:
        raise ConfigError(
            f"already holds {', '.join(clashes)}; nothing was copied (--force replaces them)",
            file=target,
        )
    root = examples_root()
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".breakerlab-init-", dir=target))
    try:
        for tree in TREES:
            if (root / tree).is_dir():
                shutil.copytree(root / tree, staging / tree, ignore=_ignored)
        shutil.copytree(SCHEMAS, staging / "schemas", ignore=_ignored)
        for path in staging.rglob("*.yaml"):
            _point_modeline(path, staging)
        for name in names:
            if not (staging / name).exists():
                continue
            if (target / name).exists():
                shutil.rmtree(target / name)
            (staging / name).replace(target / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return sorted(p for name in names for p in (target / name).rglob("*") if p.is_file())


def _ignored(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or n.startswith(".")]


def _point_modeline(path: Path, root: Path) -> None:
    """Make the file's editor hint point at the copied ``schemas/`` folder."""
    text = path.read_text(encoding="utf-8")
    match = MODELINE.search(text)
    if match is None:
        return
    schema = root / "schemas" / Path(match.group(1)).name
    relative = Path(*[".."] * (len(path.relative_to(root).parts) - 1), schema.relative_to(root))
    line = f"# yaml-language-server: $schema={relative.as_posix()}"
    path.write_text(text[: match.start()] + line + text[match.end() :], encoding="utf-8")
