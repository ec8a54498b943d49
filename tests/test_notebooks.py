"""The notebooks run end to end (nbclient, a real kernel) with small parameters, so they never
rot; the committed files carry no outputs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SCENARIOS = ROOT / "scenarios"
# nbformat has no type hints.
read_notebook: Any = nbformat.read
new_code_cell: Any = nbformat.v4.new_code_cell

# Per notebook: the scenario it studies, what makes a fast copy of it (fewer customers: the
# same faults, configurations and clock) and the notebook's own small parameters.
SMALL: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "01_outage_postmortem": ("incident_replay.yaml", {"rate": "2/s"}, {"replications": 2}),
    "02_threshold_tuning": (
        "tuning_example.yaml",
        {"rate": "4/s"},
        {
            "replications": 2,
            "thresholds": "10,70",
            "waits": "10s,60s",
            "trials": 3,
            "selection_budget": 8,
            "finalists": 1,
            "fresh_replications": 2,
        },
    ),
    "03_retry_storm": ("retry_storm.yaml", {"rate": "3/s"}, {"replications": 2}),
}


def committed() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def test_every_notebook_is_tested() -> None:
    assert [p.stem for p in committed()] == sorted(SMALL)


@pytest.mark.parametrize("path", committed(), ids=lambda p: p.stem)
def test_committed_notebooks_have_no_outputs(path: Path) -> None:
    book = read_notebook(path, as_version=4)
    nbformat.validate(book)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell with outputs"
            assert cell.execution_count is None, f"{path.name}: an execution count"
    assert "widgets" not in book.metadata


@pytest.mark.parametrize("path", committed(), ids=lambda p: p.stem)
def test_notebooks_import_only_the_public_api(path: Path) -> None:
    """``import sim`` and nothing deeper: the notebooks show what users should write."""
    book = read_notebook(path, as_version=4)
    source = "\n".join(c.source for c in book.cells if c.cell_type == "code")
    deep = re.findall(r"^\s*(?:from|import)\s+sim\.[\w.]+.*$", source, flags=re.MULTILINE)
    assert deep == []
    assert re.search(r"^import sim$", source, flags=re.MULTILINE)


def small_scenario(name: str, traffic: dict[str, Any], directory: Path) -> Path:
    """A copy of a shipped scenario with less traffic, its relative paths made absolute."""
    source = SCENARIOS / name
    data = yaml.safe_load(source.read_text("utf-8"))
    data["model"] = str((source.parent / data["model"]).resolve())
    for fault in data.get("faults", []):
        if "file" in fault:
            fault["file"] = str((source.parent / fault["file"]).resolve())
    data["traffic"] = {**data["traffic"], **traffic}
    data["traffic"].pop("profile", None)
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def with_parameters(book: Any, values: dict[str, Any]) -> Any:
    """The notebook with a cell after its ``parameters`` cell setting ``values`` (as
    papermill does)."""
    index = next(i for i, c in enumerate(book.cells) if "parameters" in c.metadata.get("tags", []))
    text = "\n".join(f"{key} = {value!r}" for key, value in values.items())
    cell = new_code_cell(text, metadata={"tags": ["injected-parameters"]})
    cell["id"] = "injected"
    book.cells.insert(index + 1, cell)
    return book


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SMALL))
def test_notebook_runs_end_to_end(name: str, tmp_path: Path) -> None:
    scenario, traffic, parameters = SMALL[name]
    book = read_notebook(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    values = {
        "scenario": str(small_scenario(scenario, traffic, tmp_path)),
        "workers": 1,
        "out": str(tmp_path / "reports"),
        **parameters,
    }
    book = with_parameters(book, values)
    client = NotebookClient(
        book,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on an error
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.outputs]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3, f"{name}: expected its figures, got {len(images)} images"
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert list((tmp_path / "reports").rglob("*.csv")), "the notebook wrote no results"
