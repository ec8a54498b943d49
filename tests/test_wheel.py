"""A user with only the wheel: built from this repository, installed into a fresh virtual
environment in a temporary directory, used from there with no repository on the path.

Dependencies come from this test's own environment through a path file (no network, no
second install of numpy and friends); breakerlab itself comes only from the wheel: the path
file adds site-packages without processing its .pth files, so the editable install of this
checkout stays invisible, and the test checks where ``sim`` was imported from.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from sim import __version__

ROOT = Path(__file__).resolve().parent.parent
SHORT = """\
name: short-outage
model: ../models/reference_shop.yaml
horizon: 2m
warmup: 10s
seed: 5
replications: 2
traffic:
  rate: 6/s
  basket: {lognormal: {median: 60, p99: 400}}
  patience: {exponential: {mean: 25s}}
faults:
  - {target: primary, kind: outage, start: 40s, duration: 40s}
configurations:
  no-breaker: {payment: {timeout: 5s}}
  failover: {payment: {timeout: 2s, fallback: secondary}}
"""


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(bin directory of the fresh environment, environment variables), wheel installed."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps"]
    build += ["--no-build-isolation", "--wheel-dir", str(dist), str(ROOT)]
    subprocess.run(build, check=True, capture_output=True, cwd=base)
    (wheel,) = dist.glob("breakerlab-*.whl")
    assert wheel.name.startswith(f"breakerlab-{__version__}-")
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=True, symlinks=True)
    python = env_dir / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run([*install, str(wheel)], check=True, capture_output=True, cwd=base)
    fresh_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    (Path(fresh_site) / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env_dir / "bin", env


def run(
    user: tuple[Path, dict[str, str]], cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    bin_dir, env = user
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True, text=True
    )


@pytest.mark.slow
def test_the_package_comes_from_the_wheel_alone(
    user: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    done = run(user, tmp_path, "python", "-c", "import sim; print(sim.__file__)")
    assert done.returncode == 0, done.stderr
    location = Path(done.stdout.strip())
    assert location.is_relative_to(user[0].parent), location
    assert not location.is_relative_to(ROOT)
    version = run(user, tmp_path, "breakerlab", "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"breakerlab {__version__}"


@pytest.mark.slow
def test_init_validate_and_run_from_an_empty_directory(
    user: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    done = run(user, tmp_path, "breakerlab", "init", "shop")
    assert done.returncode == 0, done.stderr
    shop = tmp_path / "shop"
    scenarios = sorted((shop / "scenarios").glob("*.yaml"))
    assert len(scenarios) >= 10 and (shop / "models" / "reference_shop.yaml").is_file()
    assert (shop / "schemas" / "scenario.schema.json").is_file()
    done = run(user, tmp_path, "breakerlab", "validate", *map(str, scenarios))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("ok: ") == len(scenarios)

    (shop / "scenarios" / "short.yaml").write_text(SHORT)  # a user's own edit
    done = run(user, shop, "breakerlab", "run", "scenarios/short.yaml", "--workers", "1")
    assert done.returncode == 0, done.stderr
    (report,) = (shop / "reports" / "short-outage").glob("*/report.html")
    for name in ("summary.csv", "report.md", "journal.json"):
        assert (report.parent / name).is_file(), name
    assert list((report.parent / "orders").glob("*.parquet")), "no orders"


@pytest.mark.slow
def test_a_shipped_scenario_runs_by_name(user: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    done = run(user, tmp_path, "breakerlab", "validate", "flash_sale_gateway_outage")
    assert done.returncode == 0, done.stderr
    done = run(user, tmp_path, "breakerlab", "run", "tuning_example", "--replications", "1")
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "reports" / "tuning-example").glob("*/report.html"))
    missing = run(user, tmp_path, "breakerlab", "run", "flash_sale_gateway_outtage")
    assert missing.returncode == 2
    assert "did you mean 'flash_sale_gateway_outage'" in missing.stderr


# Runs in the wheel's environment: executes one notebook where it lies, with the test's
# small parameters in a cell after its ``parameters`` cell, and prints where ``sim`` came
# from in its kernel.
DRIVER = """\
import json, sys
import nbformat
from nbclient import NotebookClient

path, values = sys.argv[1], json.loads(sys.argv[2])
book = nbformat.read(path, as_version=4)
index = next(i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", []))
text = "\\n".join(f"{key} = {value!r}" for key, value in values.items())
book.cells.insert(index + 1, nbformat.v4.new_code_cell(text))
book.cells.append(nbformat.v4.new_code_cell("import sim; print('sim from', sim.__file__)"))
NotebookClient(book, timeout=300, kernel_name="python3").execute()
print(book.cells[-1].outputs[0]["text"].strip())
"""


@pytest.mark.slow
def test_the_notebooks_run_from_an_init_directory(
    user: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """The user's path: a wheel, ``init``, then each notebook opened where init put it. The
    notebooks find ``../scenarios`` (the copies, here made smaller by the user) and write
    to ``../reports``; their kernel imports breakerlab from the wheel."""
    import json

    import yaml

    from tests.test_notebooks import SMALL

    done = run(user, tmp_path, "breakerlab", "init", "shop")
    assert done.returncode == 0, done.stderr
    shop = tmp_path / "shop"
    notebooks = sorted((shop / "notebooks").glob("*.ipynb"))
    assert [p.stem for p in notebooks] == sorted(SMALL)
    (tmp_path / "driver.py").write_text(DRIVER)
    for notebook in notebooks:
        scenario, traffic, parameters = SMALL[notebook.stem]
        path = shop / "scenarios" / scenario  # a user's edit: less traffic, same clock
        data = yaml.safe_load(path.read_text("utf-8"))
        data["traffic"] = {**data["traffic"], **traffic}
        data["traffic"].pop("profile", None)
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        values = json.dumps({"workers": 1, **parameters})
        done = run(user, notebook.parent, "python", str(tmp_path / "driver.py"), notebook.name,
                   values)  # fmt: skip
        assert done.returncode == 0, f"{notebook.name}: {done.stderr[-3000:]}"
        origin = Path(done.stdout.strip().splitlines()[-1].removeprefix("sim from "))
        assert origin.is_relative_to(user[0].parent), origin  # the wheel's, not the checkout's
    written = {p.parent.parent.name for p in (shop / "reports").glob("*/*/*.csv")}
    assert {"incident-replay", "retry-storm"} <= written, written
    assert (shop / "reports").is_dir() and not (shop / "notebooks" / "reports").exists()
