"""Mutation testing of the modules decisions rest on, one module at a time, with mutmut.

    make mutate                                  # every target of benchmarks/mutation.toml
    make mutate MODULE=sim/units.py              # one module (a minute or two)
    make mutate MODULE=sim/resilience/           # every target under a folder
    .venv/bin/python benchmarks/mutate.py sim/units.py --jobs 2 --committed
    .venv/bin/python benchmarks/mutate.py sim/units.py --survivors   # after adding tests

Each module runs in a scratch copy of the working tree (``--scratch``, default a folder
under the system's temp dir), never in the tree itself: mutmut writes its ``mutants/``
folder there, and nobody else's test run can meet a mutated file. ``--committed`` copies
HEAD instead of the working tree. Only the module's own
targeted tests run (mutmut runs, per mutant, just the tests that reach the mutated
function). A survivor listed as equivalent in mutation.toml counts as explained; any other
survivor, or a mutant no test reaches, is printed with its diff and makes the exit code 1.
The scores go to stdout and to ``reports/mutation/scores.md``.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = Path(__file__).with_name("mutation.toml")
MUTMUT = Path(sys.executable).with_name("mutmut")
KILLED = {1, 3}  # a test failed (3: pytest's internal error, which mutmut counts as a kill)
TIMEOUT = {36, 24, -24, 152, 255}  # a mutant that never finishes is caught too
SURVIVED = 0
NO_TESTS = {5, 33}


@dataclass
class Target:
    module: str
    tests: list[str]
    functions: list[str] = field(default_factory=list)
    deselect: list[str] = field(default_factory=list)  # tests mutmut's rewriting breaks

    @property
    def dotted(self) -> str:
        return self.module.removesuffix(".py").replace("/", ".")


@dataclass
class Equivalent:
    function: str  # dotted module + function, e.g. sim.units.format_duration
    mutation: str  # the mutated line as the diff's + line shows it, stripped
    why: str
    after: str = ""  # the line above it, where the mutation alone is ambiguous
    used: bool = False


@dataclass
class Score:
    target: Target
    total: int = 0
    killed: int = 0
    equivalent: list[tuple[str, Equivalent]] = field(default_factory=list)
    unexplained: list[tuple[str, str]] = field(default_factory=list)  # (name, diff)

    @property
    def caught_pct(self) -> float:
        return 100.0 * self.killed / self.total if self.total else 100.0


def load_config(path: Path = CONFIG) -> tuple[list[Target], list[Equivalent]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    targets = [Target(**t) for t in data.get("target", [])]
    equivalents = [Equivalent(**e) for e in data.get("equivalent", [])]
    return targets, equivalents


def select(targets: list[Target], wanted: str | None) -> list[Target]:
    """The targets named by ``wanted`` (a module, or a folder prefix); all when None."""
    if not wanted:
        return targets
    chosen = [t for t in targets if t.module == wanted or t.module.startswith(wanted)]
    if not chosen:
        known = ", ".join(t.module for t in targets)
        raise SystemExit(f"no mutation target matches {wanted!r} (targets: {known})")
    return chosen


def copy_tree(scratch: Path, committed: bool) -> None:
    """The working tree as it is now (tracked and untracked files, ignored ones left out),
    or with ``committed`` the files of HEAD alone (others' unfinished edits left out)."""
    node_modules = ROOT / "tests" / "js" / "node_modules"  # ignored, but the Node tests need it
    if node_modules.is_dir():
        shutil.copytree(node_modules, scratch / "tests" / "js" / "node_modules", symlinks=True)
    if committed:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive, check=True)
        return
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, scratch / name)


def test_files(target: Target, scratch: Path) -> list[str]:
    found: list[str] = []
    for pattern in target.tests:
        path, sep, test = pattern.partition("::")  # a single test: file::name
        found += sorted(f"{p.relative_to(scratch)}{sep}{test}" for p in scratch.glob(path))
    return list(dict.fromkeys(found))


def write_mutmut_config(scratch: Path, target: Target, tests: list[str]) -> None:
    """mutmut reads [tool.mutmut] of the copied pyproject.toml; the tree's stays untouched.
    Written again (not added twice) when a rerun brings new test files."""
    lines = [
        "",
        "[tool.mutmut]",
        'source_paths = ["sim"]',
        f"only_mutate = [{json.dumps(target.module)}]",
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        "pytest_add_cli_args = "
        + json.dumps(
            ["-p", "no:cacheprovider", "-q", "-x"]
            + [arg for test in target.deselect for arg in ("--deselect", test)]
        ),
        'also_copy = ["models", "scenarios", "benchmarks"]',
        "",
    ]
    pyproject = scratch / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8").split("\n[tool.mutmut]\n")[0]
    pyproject.write_text(text + "\n".join(lines), "utf-8")


def verdicts(target: Target, scratch: Path) -> dict[str, int | None]:
    meta = scratch / "mutants" / (target.module + ".meta")
    codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return codes


def survivors_of(target: Target, scratch: Path) -> list[str]:
    """Mutants of the last run in ``scratch`` that no test killed."""
    codes = verdicts(target, scratch)
    return sorted(k for k, v in codes.items() if v == SURVIVED or v in NO_TESTS)


def keep_verdicts(target: Target, scratch: Path, earlier: dict[str, int | None]) -> None:
    """A changed test selection (a new test file) makes mutmut forget every verdict; the
    mutants not rerun keep those of the run before (tests were only added since)."""
    meta = scratch / "mutants" / (target.module + ".meta")
    data = json.loads(meta.read_text(encoding="utf-8"))
    codes = data["exit_code_by_key"]
    for key, code in earlier.items():
        if codes.get(key) is None:
            codes[key] = code
    meta.write_text(json.dumps(data), encoding="utf-8")


def same_code(old: bytes, new: bytes) -> bool:
    """Whether two versions of a module have the same code: comments, layout and the
    module's docstring aside (mutmut mutates none of them, so the mutants are the same)."""

    def code(source: bytes) -> str:
        tree = ast.parse(source)
        if ast.get_docstring(tree) is not None:
            tree.body = tree.body[1:]
        return ast.dump(tree)

    return code(old) == code(new)


def current_source(module: str, committed: bool) -> bytes:
    """The module as a run now would mutate it: HEAD's, or the working tree's."""
    if committed:
        shown = subprocess.run(
            ["git", "show", f"HEAD:{module}"], cwd=ROOT, check=True, capture_output=True
        )
        return shown.stdout
    return (ROOT / module).read_bytes()


def run_mutmut(
    scratch: Path, target: Target, jobs: int, log: Path, only: list[str] | None = None
) -> None:
    names = only or [f"{target.dotted}.x_{f}__mutmut_*" for f in target.functions]
    command = [str(MUTMUT), "run", "--max-children", str(jobs), *names]
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            command, cwd=scratch, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = process.wait()
        except BaseException:
            os.killpg(process.pid, signal.SIGTERM)  # mutmut and every worker it forked
            process.wait()
            raise
    if code != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"mutmut failed on {target.module} (exit {code}); log {log}:\n{tail}")


def diff_of(scratch: Path, name: str) -> str:
    shown = subprocess.run(
        [str(MUTMUT), "show", name], cwd=scratch, capture_output=True, text=True, check=False
    )
    return shown.stdout


def mutated_line(diff: str) -> str:
    added = [
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    if added:
        return " / ".join(added)
    removed = [
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith("-") and not line.startswith("---")
    ]
    return "removed: " + " / ".join(removed)


def line_above(diff: str) -> str:
    """The unchanged line just above the mutated one in ``diff``."""
    above = ""
    for line in diff.splitlines():
        if line.startswith("-") and not line.startswith("---"):
            return above
        if line.startswith(" "):
            above = line.strip()
    return above


def function_of(name: str) -> str:
    """``sim.units.x_format_duration__mutmut_3`` -> ``sim.units.format_duration`` (methods
    read ``module.xǁClassǁmethod__mutmut_3`` -> ``module.Class.method``)."""
    base = name.rsplit("__mutmut_", 1)[0]
    module, _, function = base.rpartition(".")
    function = function.removeprefix("x_").removeprefix("xǁ").replace("ǁ", ".")
    return f"{module}.{function}"


def score(target: Target, scratch: Path, equivalents: list[Equivalent]) -> Score:
    meta = scratch / "mutants" / (target.module + ".meta")
    codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    if target.functions:
        patterns = [f"{target.dotted}.x_{f}__mutmut_*" for f in target.functions]
        codes = {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
    result = Score(target, total=len(codes))
    for name, code in sorted(codes.items()):
        if code in KILLED or code in TIMEOUT:
            result.killed += 1
            continue
        diff = diff_of(scratch, name)
        line, function = mutated_line(diff), function_of(name)
        above = line_above(diff)
        match = next(
            (
                e
                for e in equivalents
                if e.function == function
                and e.mutation == line
                and (not e.after or e.after == above)
            ),
            None,
        )
        if match is not None and (code == SURVIVED or code in NO_TESTS):
            match.used = True
            result.equivalent.append((name, match))
        else:
            status = "survived" if code == SURVIVED else f"not caught (mutmut exit {code})"
            if code in NO_TESTS:
                status = "no test reaches it"
            result.unexplained.append((name, f"{status}\n{diff}"))
    return result


def markdown(scores: list[Score]) -> str:
    lines = [
        "| module | mutants | killed | equivalent | unexplained | score | without equivalents |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        real = s.total - len(s.equivalent)
        adjusted = 100.0 * s.killed / real if real else 100.0
        scope = f" ({', '.join(s.target.functions)})" if s.target.functions else ""
        lines.append(
            f"| `{s.target.module}`{scope} | {s.total} | {s.killed} | {len(s.equivalent)} | "
            f"{len(s.unexplained)} | {s.caught_pct:.1f} % | {adjusted:.1f} % |"
        )
    return "\n".join(lines) + "\n"


def equivalents_markdown(equivalents: list[Equivalent]) -> str:
    lines = ["| function | mutation | why it changes nothing |", "|---|---|---|"]
    for e in equivalents:
        mutation = e.mutation.replace("|", "\\|")
        lines.append(f"| `{e.function}` | `{mutation}` | {e.why} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", nargs="?", help="a target module or folder (default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once")
    parser.add_argument(
        "--committed", action="store_true", help="test HEAD's files, not the working tree's"
    )
    parser.add_argument(
        "--survivors",
        action="store_true",
        help="rerun only the last run's survivors, in a fresh copy of the tree (its tests now)",
    )
    parser.add_argument(
        "--scratch", type=Path, default=Path(tempfile.gettempdir()) / "breakerlab-mutate"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "mutation" / "scores.md")
    parser.add_argument(
        "--list-equivalents",
        action="store_true",
        help="print them as a markdown table, run nothing",
    )
    args = parser.parse_args(argv)
    targets, equivalents = load_config()
    if args.list_equivalents:
        print(equivalents_markdown(equivalents), end="")
        return 0
    scores: list[Score] = []
    for target in select(targets, args.module):
        if not (ROOT / target.module).is_file():  # listed before it was written
            print(f"skip {target.module}: not in the tree yet")
            continue
        scratch = args.scratch / target.module.replace("/", "_")
        if args.survivors and (scratch / "mutants" / (target.module + ".meta")).is_file():
            if not same_code(
                (scratch / target.module).read_bytes(),
                current_source(target.module, args.committed),
            ):
                raise SystemExit(f"{target.module} changed since its last run: run it in full")
            only = survivors_of(target, scratch)
            earlier = {k: v for k, v in verdicts(target, scratch).items() if k not in only}
            print(f"rerunning {len(only)} survivors of {target.module} ...", flush=True)
            if only:
                # A fresh copy of the tree: the tests and every other module as they are
                # now (the mutated module is the same, so the mutants keep their names).
                shutil.rmtree(scratch)
                scratch.mkdir(parents=True)
                copy_tree(scratch, args.committed)
                write_mutmut_config(scratch, target, test_files(target, scratch))
                run_mutmut(scratch, target, max(1, args.jobs), scratch / "mutmut.log", only)
                keep_verdicts(target, scratch, earlier)
            result = score(target, scratch, equivalents)
            scores.append(result)
            print(markdown([result]).splitlines()[-1], flush=True)
            for name, detail in result.unexplained:
                print(f"\n{name}: {detail}")
            continue
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        copy_tree(scratch, args.committed)
        tests = test_files(target, scratch)
        if not tests:
            print(f"skip {target.module}: none of its tests exist ({', '.join(target.tests)})")
            continue
        write_mutmut_config(scratch, target, tests)
        print(f"mutating {target.module} against {len(tests)} test files ...", flush=True)
        run_mutmut(scratch, target, max(1, args.jobs), scratch / "mutmut.log")
        result = score(target, scratch, equivalents)
        scores.append(result)
        print(markdown([result]).splitlines()[-1], flush=True)
        for name, detail in result.unexplained:
            print(f"\n{name}: {detail}")
    table = markdown(scores)
    print("\n" + table)
    ran = {s.target.dotted for s in scores}
    for e in equivalents:
        if not e.used and any(e.function.startswith(module + ".") for module in ran):
            print(f"stale equivalent entry (matches no survivor): {e.function}: {e.mutation}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table, encoding="utf-8")
    return 1 if any(s.unexplained for s in scores) else 0


if __name__ == "__main__":
    sys.exit(main())
