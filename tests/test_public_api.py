"""The public API is declared three times in sim/__init__.py: ``__all__``, the table of lazy
imports (``_EXPORTS``) and the imports under ``TYPE_CHECKING`` that type checkers and editors
read. The three must name the same things, and each name must load what the table says."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import sim

SOURCE = Path(sim.__file__).read_text(encoding="utf-8")
NOT_LAZY = {"__version__"}  # imported at once: sim/version.py has nothing heavy


def type_checking_imports() -> dict[str, tuple[str, str]]:
    """Public name -> (module, attribute) of each import under ``if TYPE_CHECKING:``."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(SOURCE).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom) and statement.module
                for alias in statement.names:
                    found[alias.asname or alias.name] = (statement.module, alias.name)
    return found


def test_all_the_lazy_table_and_the_type_checking_imports_agree() -> None:
    exported = set(sim.__all__) - NOT_LAZY
    assert exported == set(sim._EXPORTS)
    assert type_checking_imports() == sim._EXPORTS
    assert sim.__all__ == sorted(sim.__all__)
    assert len(sim.__all__) == len(set(sim.__all__))


@pytest.mark.parametrize("name", sorted(sim._EXPORTS))
def test_each_public_name_is_what_the_table_says(name: str) -> None:
    module, attribute = sim._EXPORTS[name]
    assert getattr(sim, name) is getattr(importlib.import_module(module), attribute)
    assert name in dir(sim)


def test_the_version_and_the_formatter_module() -> None:
    from sim.version import __version__

    assert sim.__version__ == __version__
    assert sim.format is importlib.import_module("sim.format")


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = sim.no_such_name  # type: ignore[attr-defined]
