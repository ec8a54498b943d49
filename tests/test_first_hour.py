"""A new user's first hour, through the real ``breakerlab`` program: help that reads like a
man page at 80 columns, ``-h``, and the mistakes that used to pass silently or without a
hint (issue 23)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_scenario

BREAKERLAB = str(Path(sys.executable).with_name("breakerlab"))
COMMANDS = ["run", "sweep", "tune", "report", "validate", "schema", "init", "calibrate"]
COMMANDS += ["export", "import"]
SHORT = [{"target": "primary", "kind": "outage", "start": "30s", "duration": "40s"}]


def breakerlab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    return subprocess.run(
        [BREAKERLAB, *args], capture_output=True, text=True, env=env, cwd=cwd, check=False
    )


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_reads_like_a_man_page_at_80_columns(command: str) -> None:
    """Every command's help, in process (the next test runs the installed program)."""
    from typer.testing import CliRunner

    from sim.cli import app

    runner = CliRunner()
    args = [command] if command else []
    env = {"COLUMNS": "80", "NO_COLOR": "1"}
    long = runner.invoke(app, [*args, "--help"], prog_name="breakerlab", env=env)
    short = runner.invoke(app, [*args, "-h"], prog_name="breakerlab", env=env)
    assert long.exit_code == 0 and short.exit_code == 0, long.output + short.output
    assert short.stdout == long.stdout
    text = long.stdout
    assert all(len(line) <= 80 for line in text.splitlines()), text
    for trap in ("<list[str]>", "<int range>", "<str>", "<path>", "x>=", "{", "…", "─", "no-"):
        assert trap not in text, f"{command or 'breakerlab'} --help shows {trap!r}:\n{text}"
    assert text.startswith("Usage: breakerlab")


def test_help_names_what_an_option_takes() -> None:
    text = breakerlab("run", "-h").stdout  # the installed program, at COLUMNS=80
    assert all(len(line) <= 80 for line in text.splitlines()), text
    for option in ("--replications N", "--out DIR", "--resume DIR", "--precision-metric METRIC"):
        assert re.search(rf"^\s+{re.escape(option)}\s", text, re.MULTILINE), option
    assert "Usage: breakerlab run [OPTIONS] [SCENARIO]" in text
    assert "Usage: breakerlab validate [OPTIONS] FILE..." in breakerlab("validate", "-h").stdout
    export = breakerlab("export", "-h").stdout
    assert "one of: chaostoolkit, toxiproxy" in " ".join(export.split())


@pytest.mark.slow
def test_run_with_a_scenario_and_resume_is_refused(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path)
    done = breakerlab("run", str(scenario), "--resume", str(tmp_path))
    assert done.returncode == 2
    assert "--resume: give a scenario or --resume DIR, not both" in done.stderr
    done = breakerlab("sweep", str(scenario), "--resume", str(tmp_path))
    assert done.returncode == 2
    assert "--resume: give a scenario and --param, or --resume DIR, not both" in done.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.slow
def test_validate_takes_a_directory_and_checks_every_yaml_file_under_it(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    done = breakerlab("validate", str(root / "models"), str(root / "scenarios"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"ok: {root / 'models' / 'reference_shop.yaml'}: model 'reference-shop'" in "\n".join(
        lines
    )
    assert any(line.startswith("ok: ") and "breaker policy of polly" in line for line in lines)
    shipped = sorted((root / "scenarios").glob("*.yaml"))
    assert sum("scenario '" in line for line in lines) == len(shipped)
    production = root / "models" / "production" / "application.yml"
    assert f"skipped: {production}: not a scenario, model or breaker policy" in lines

    (tmp_path / "nested").mkdir()
    write_scenario(tmp_path / "nested")
    policy = (root / "models" / "policies" / "polly.yaml").read_text("utf-8")
    (tmp_path / "polly.yaml").write_text(policy.replace("failure_ratio: 0.1", "failure_ratio: 7"))
    done = breakerlab("validate", str(tmp_path))
    assert done.returncode == 2
    assert f"ok: {tmp_path / 'nested' / 'scenario.yaml'}: scenario 'tiny'" in done.stdout
    assert "polly.yaml:8: defaults.failure_ratio: 7 is above 1" in done.stderr
    (tmp_path / "empty").mkdir()
    done = breakerlab("validate", str(tmp_path / "empty"))
    assert done.returncode == 2 and "a directory without any .yaml or .yml file" in done.stderr


@pytest.mark.slow
def test_sweep_mistakes_say_what_was_meant(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path)
    out = ["--out", str(tmp_path / "reports")]
    typo = breakerlab("sweep", str(scenario), "--param", "payment.timout=1s,2s", *out)
    assert typo.returncode == 2
    assert "payment has no setting 'timout'; did you mean 'timeout'?" in typo.stderr
    deep = "payment.breaker.failure_rate_treshold=20,80"
    typo = breakerlab("sweep", str(scenario), "--configuration", "breaker", "--param", deep, *out)
    assert "payment.breaker has no setting 'failure_rate_treshold'; did you mean " in typo.stderr
    assert "resilience4j" not in typo.stderr  # pydantic's tag of the preset is not a key
    polly = {"payment": {"timeout": "2s", "breaker": {"preset": "polly"}}}
    shootout = write_scenario(tmp_path, configurations={"plain": {}, "polly": polly})
    ratio = "payment.breaker.failure_ratio=0.1,0.5"
    wrong = breakerlab("sweep", str(shootout), "--param", ratio, *out)
    assert wrong.returncode == 2
    assert (
        "the sweep varies 'plain' (the baseline), which has no payment.breaker.failure_ratio; "
        "polly has it: did you mean --configuration polly?"
    ) in " ".join(wrong.stderr.split())
    short = breakerlab("sweep", str(scenario), "--configuration", "brk", "--param", deep, *out)
    assert "unknown configuration 'brk'" in short.stderr
    abbreviated = breakerlab("run", str(scenario), "--baseline", "pla", *out)
    assert abbreviated.returncode == 2
    assert "--baseline: unknown configuration 'pla'; did you mean 'plain'?" in abbreviated.stderr
    assert not (tmp_path / "reports").exists()


@pytest.mark.slow
def test_the_sweep_names_its_report(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, horizon="90s", warmup="10s", replications=1, faults=SHORT)
    done = breakerlab(
        "sweep", str(scenario), "--configuration", "breaker", "--workers", "1",
        "--param", "payment.breaker.wait_duration_in_open_state=5s,20s",
        "--out", str(tmp_path / "reports"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (report,) = (tmp_path / "reports").glob("*/*/report.md")
    assert f"report: {report}" in done.stdout.splitlines()
    assert f"results: {report.with_name('sweep.csv')}" in done.stdout.splitlines()
    header = report.with_name("sweep.csv").read_text("utf-8").splitlines()[0].split(",")
    assert "clipped" in header  # an interval clipped at a bound says so in the CSV too


def test_the_python_api_loads_a_shipped_scenario_by_name(tmp_path: Path) -> None:
    import sim

    loaded = sim.load_scenario("incident_replay")  # sim.run takes the same name
    assert loaded.scenario.name == "incident-replay"
    assert sim.load_scenario(write_scenario(tmp_path)).scenario.name == "tiny"
    with pytest.raises(sim.ConfigError, match="did you mean 'incident_replay'"):
        sim.load_scenario("incident_replai")
    with pytest.raises(sim.ConfigError, match=r"shipped scenario: sim.run\('retry_storm'\)"):
        sim.load_run("retry_storm")  # a run directory is meant
    assert sim.format.measured(0.82, 0.76, 0.88, "%") == "0.82 ± 0.06 %"


@pytest.mark.slow
def test_every_calibrate_example_of_the_readme_on_the_shipped_samples_runs(
    tmp_path: Path,
) -> None:
    """The README's calibrate lines that name files of this repository run as written
    (they once combined both samples, which hold the same dependencies)."""
    root = Path(__file__).resolve().parents[1]
    lines = (root / "README.md").read_text("utf-8").splitlines()
    examples = []
    for line in lines:
        if not line.startswith("breakerlab calibrate "):
            continue
        args = line.split("#")[0].split()[2:]
        inputs = [a for a in args if not a.startswith("-")]
        if inputs and all((root / a).is_file() for a in inputs):
            examples.append(args)
    assert len(examples) >= 2, "the README shows calibrate on the shipped samples"
    for i, args in enumerate(examples):
        done = breakerlab("calibrate", *args, "--out", str(tmp_path / str(i)), cwd=root)
        assert done.returncode == 0, f"{args}: {done.stderr}"
        fit = (tmp_path / str(i) / "fit.csv").read_text("utf-8")
        numbers = re.findall(r"(?<![\w.])\d+\.\d+(?:e-?\d+)?", fit)
        noisy = [n for n in numbers if len(n.split("e")[0].replace(".", "").lstrip("0")) > 12]
        assert numbers and not noisy, noisy  # full precision, no 0.06037999999999993


@pytest.mark.slow
def test_a_breaker_that_never_opened_is_said_wherever_it_is_compared(tmp_path: Path) -> None:
    scenario = write_scenario(
        tmp_path, horizon="90s", warmup="10s", replications=2, faults=[],
        hypotheses=["failed < 1000"],
    )  # fmt: skip
    out = tmp_path / "reports"
    done = breakerlab("run", str(scenario), "--out", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "breaker (breaker never opened)" in done.stdout  # the terminal's tables
    verdicts = [line for line in done.stdout.splitlines() if line.startswith("PASS")]
    assert verdicts and all(
        re.search(
            r"\(mean [\d,.]+ (± [\d,.]+ |\[[\d,.]+ to [\d,.]+\]†? )"
            r"?\(95 %\), 2 replications\)",
            v,
        )
        for v in verdicts
    ), verdicts
    (report,) = out.glob("*/*/report.md")
    text = report.read_text("utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| breaker")]
    # The standings, the differences, the results and the revenue lost by cause.
    assert len(rows) == 4 and all("breaker never opened" in row for row in rows), rows
    assert "| plain |" in text and "plain (breaker" not in text  # plain has no breaker
    assert "breaker never opened" in report.with_name("report.html").read_text("utf-8")

    done = breakerlab("run", str(scenario), "--out", str(out), "--workers", "1", "--json")
    document = json.loads(done.stdout)
    assert {"clipped"} <= set(document["results"][0])
    [verdict] = [v for v in document["hypotheses"] if v["configuration"] == "plain"]
    assert verdict["unit"] == "" and isinstance(verdict["clipped"], bool)
    summary = (report.parent / "summary_ci.csv").read_text("utf-8").splitlines()
    assert summary[0].endswith(",clipped")


@pytest.mark.slow
def test_tune_prints_numbers_with_units_and_settings_as_written(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, horizon="2m", warmup="10s", replications=1, faults=SHORT)
    done = breakerlab(
        "tune", str(scenario), "--configuration", "breaker", "--workers", "1",
        "--param", "payment.breaker.failure_rate_threshold=20%:90%",
        "--param", "payment.breaker.wait_duration_in_open_state=2s:120s:log",
        "--trials", "3", "--selection-budget", "6", "--finalists", "1",
        "--fresh-replications", "2", "--out", str(tmp_path / "reports"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "of the base's mean = " in text and " EUR" in text
    assert not re.search(r"\d[eE][+-]?\d", text)  # no scientific notation
    settings = re.findall(r"failure_rate_threshold[ =]([\d.]+%)", text)
    assert settings and all(len(s.rstrip("%").replace(".", "")) <= 3 for s in settings), text
    (report,) = (tmp_path / "reports").glob("*/*/report.md")
    assert "simultaneous 97.5%" in report.read_text("utf-8")  # the selection stage's level


@pytest.mark.slow
def test_export_out_is_a_reports_root_as_for_run(tmp_path: Path) -> None:
    base = ["export", "flash_sale_gateway_outage", "--configuration", "breaker-failover"]
    root = tmp_path / "existing"
    root.mkdir()
    done = breakerlab(*base, "--out", str(root))
    assert done.returncode == 0, done.stderr
    written = root / "flash-sale-gateway-outage-export" / "breaker-failover.chaostoolkit.json"
    assert f"wrote {written}" in done.stdout and written.is_file()
    again = breakerlab(*base, "--out", str(root))  # never overwritten without a word
    assert again.returncode == 2 and "exists" in again.stderr and "--force" in again.stderr
    assert breakerlab(*base, "--out", str(root), "--force").returncode == 0
    a_file = tmp_path / "experiment.json"
    a_file.write_text("keep me")
    refused = breakerlab(*base, "--out", str(a_file))
    assert refused.returncode == 2 and "is a file: --out names the reports root" in refused.stderr
    assert a_file.read_text() == "keep me"
    printed = breakerlab(*base, "--out", "-")
    assert printed.returncode == 0 and json.loads(printed.stdout)["title"]

    toxiproxy = breakerlab("export", "flash_sale_gateway_outage", "--format", "toxiproxy",
                           "--out", str(root))  # fmt: skip
    assert toxiproxy.returncode == 0, toxiproxy.stderr  # no --configuration: it has no use
    assert (root / "flash-sale-gateway-outage-export" / "faults.toxiproxy.json").is_file()
    missing = breakerlab("export", "flash_sale_gateway_outage", "--out", str(root))
    assert missing.returncode == 2 and "--configuration: name the configuration" in missing.stderr


@pytest.mark.slow
def test_a_model_without_a_currency_is_said_to_be_assumed(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    model = (root / "models" / "reference_shop.yaml").read_text("utf-8")
    assert "currency: EUR" in model
    (tmp_path / "shop.yaml").write_text(re.sub(r"(?m)^currency:.*\n", "", model))
    scenario = write_scenario(tmp_path, model="shop.yaml", horizon="90s", warmup="10s",
                              replications=1, faults=SHORT)  # fmt: skip
    done = breakerlab("run", str(scenario), "--out", str(tmp_path / "r"), "--workers", "1")
    assert done.returncode == 0, done.stderr
    (report,) = (tmp_path / "r").glob("*/*/report.md")
    assert "amounts in EUR (assumed: the model states no currency)" in report.read_text("utf-8")
    usd = (
        (tmp_path / "shop.yaml")
        .read_text("utf-8")
        .replace("name: reference-shop", "name: reference-shop\ncurrency: USD")
    )
    (tmp_path / "shop.yaml").write_text(usd)
    done = breakerlab("run", str(scenario), "--out", str(tmp_path / "u"), "--workers", "1")
    (report,) = (tmp_path / "u").glob("*/*/report.md")
    text = report.read_text("utf-8")
    assert "amounts in USD" in text and "| revenue lost (USD) |" in text and "EUR" not in text


def test_figures_label_numbers_as_people_write_them() -> None:
    """Tick labels without 1e6 offsets or '3 × 10^0', heat-map cells without '1.17e+04'."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from sim.report import plots, sweep_plots

    rows = [("a", 30.0 * i, 0.4 + 0.01 * i, 3.0, 0.4, 3.2) for i in range(10)]
    data = pd.DataFrame(rows, columns=["configuration", "time_s", "p50_s", "p99_s",
                                       "result_p50_s", "result_p99_s"])  # fmt: skip
    data = data.assign(p95_s=2.0, orders=5, results=6)
    faults = pd.DataFrame(columns=["target", "kind", "start_s", "end_s"])
    fig = plots.latency_lines(data, faults, 300.0)
    plots.plain_ticks(fig)
    fig.canvas.draw()
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels() if t.get_text()]
    plt.close(fig)
    assert labels and all(re.fullmatch(r"[\d,.]+", t) for t in labels), labels
    table = pd.DataFrame(
        [(x, y, "revenue_lost", 11700.0 * x, 11700.0 * x - 2200, 11700.0 * x + 2200)
         for x in (1, 2) for y in (5, 10)],
        columns=["p.x", "p.y", "metric", "mean", "ci_low", "ci_high"],
    )  # fmt: skip
    fig = sweep_plots.heatmap(table, "p.x", "p.y", "revenue_lost")
    cells = [t.get_text() for t in fig.axes[0].texts]
    plt.close(fig)
    assert "11,700\n± 2,200" in cells and not any("e+" in c for c in cells), cells
