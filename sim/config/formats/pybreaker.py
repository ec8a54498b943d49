"""pybreaker: ``pybreaker.CircuitBreaker(fail_max=..., reset_timeout=..., ...)`` calls in a
Python file, read without running it (``ast``: literal arguments only). An instance is the
``name=`` argument, else the variable it is assigned to."""

from __future__ import annotations

import ast
import difflib
from typing import Any

from sim.config.configuration import Configuration, StagePolicy
from sim.config.formats.common import (
    Block,
    Exported,
    Imported,
    Source,
    duration_text,
    number,
)
from sim.config.formats.stacks import Gaps, breaker_preset, finish, stages_of
from sim.config.formats.values import PYTHON_EXCEPTIONS, categories, exception_names
from sim.errors import ConfigError

KNOWN = ("fail_max", "reset_timeout", "success_threshold", "exclude", "name")
SKIPPED = ("state_storage", "listeners", "throw_new_error_on_trip")


def import_pybreaker(source: Source, instance: str | None) -> Imported:
    result = Imported("pybreaker", source.file)
    calls = _calls(source)
    if not calls:
        raise source.error("no pybreaker.CircuitBreaker(...) call", ())
    found = {name: call for name, call in calls}
    for name in result.choose(source, list(found), instance, ()):
        call = found[name]
        block: Block = {"preset": "pybreaker"}
        for keyword in call.keywords:
            loc = ("exclude",)
            if keyword.arg in SKIPPED:
                result.ignored.append(f"{keyword.arg} (line {keyword.value.lineno})")
                continue
            if keyword.arg not in KNOWN:
                hint = difflib.get_close_matches(str(keyword.arg), list(KNOWN), n=1)
                message = f"unknown pybreaker argument {keyword.arg!r}" + (
                    f"; did you mean {hint[0]!r}?" if hint else ""
                )
                raise ConfigError(message, file=source.file, line=keyword.value.lineno, path=name)
            if keyword.arg == "exclude":
                names = [ast.unparse(e) for e in getattr(keyword.value, "elts", [])]
                block["exclude"] = (
                    categories(source, names, loc, PYTHON_EXCEPTIONS, result.ignored) or []
                )
            elif keyword.arg == "reset_timeout":
                block["reset_timeout"] = duration_text(float(_literal(source, keyword.value)))
            elif keyword.arg != "name":
                block[keyword.arg] = _literal(source, keyword.value)
        result.blocks[name] = {"breaker": block}
    return result


def _literal(source: Source, node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        message = (
            f"{ast.unparse(node)} is not a literal (breakerlab reads the file without running it)"
        )
        raise ConfigError(message, file=source.file, line=node.lineno) from None


def _calls(source: Source) -> list[tuple[str, ast.Call]]:
    text = source.data if isinstance(source.data, str) else ""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise ConfigError(f"not Python: {exc.msg}", file=source.file, line=exc.lineno) from None
    out: list[tuple[str, ast.Call]] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and _is_breaker(node.value)
        ):
            target = node.targets[0]
            name = target.id if isinstance(target, ast.Name) else ast.unparse(target)
            out.append((_name(node.value) or name.removesuffix("_breaker"), node.value))
    return out


def _is_breaker(call: ast.Call) -> bool:
    return ast.unparse(call.func).split(".")[-1] == "CircuitBreaker"


def _name(call: ast.Call) -> str | None:
    for keyword in call.keywords:
        if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    return None


def export_pybreaker(config: Configuration) -> Exported:
    stacks, others = stages_of(config)
    gaps = Gaps("pybreaker")
    lines = ["import pybreaker", ""]
    for name, stage in stacks.items():
        lines += _export_stage(name, stage, gaps)
    return finish("pybreaker", "\n".join(lines) + "\n", gaps, others, [], style="python")


def _export_stage(name: str, stage: StagePolicy, gaps: Gaps) -> list[str]:
    for layer in ("timeout", "retry", "bulkhead", "rate_limiter", "hedging"):
        if getattr(stage, layer) is not None:
            gaps.add(f"{name}.{layer}", f"pybreaker has no {layer.replace('_', ' ')}")
    preset = breaker_preset(stage)
    if preset != "pybreaker":
        if preset is not None:
            gaps.add(f"{name}.breaker", f"a {preset} breaker is not pybreaker's")
        return []
    spec: Any = stage.breaker
    exclude = ", ".join(exception_names(spec.exclude, PYTHON_EXCEPTIONS))
    return [
        f"{name}_breaker = pybreaker.CircuitBreaker(",
        f"    fail_max={spec.fail_max},",
        f"    reset_timeout={number(spec.reset_timeout)!r},",
        f"    success_threshold={spec.success_threshold},",
        f"    exclude=[{exclude}],",
        f"    name={name!r},",
        ")",
        "",
    ]
