"""The shipped examples: found by name, copied by `init` ready to edit and to run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.config import load_scenario
from sim.errors import ConfigError
from sim.examples import MODELINE, copy_examples, examples_root, find_scenario, shipped_scenarios

ROOT = Path(__file__).resolve().parent.parent


def test_a_source_checkout_serves_its_own_folders() -> None:
    assert examples_root() == ROOT
    assert "flash_sale_gateway_outage" in shipped_scenarios()


@pytest.mark.parametrize(
    "name",
    ["flash_sale_gateway_outage", "flash_sale_gateway_outage.yaml", "flash-sale-gateway-outage"],
)
def test_a_shipped_scenario_is_found_by_name(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing of that name here
    assert find_scenario(name) == ROOT / "scenarios" / "flash_sale_gateway_outage.yaml"


def test_an_existing_file_wins_over_a_shipped_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "retry_storm").write_text("mine")
    assert find_scenario("retry_storm") == Path("retry_storm")


def test_an_unknown_name_suggests_the_nearest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as error:
        find_scenario("flash_sale_gateway_outtage")
    assert "did you mean 'flash_sale_gateway_outage'" in str(error.value)
    assert error.value.exit_code == 2


def test_a_missing_path_is_not_looked_up_by_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file$"):
        find_scenario(tmp_path / "retry_storm.yaml")


def test_init_copies_examples_that_load_and_point_at_copied_schemas(tmp_path: Path) -> None:
    target = tmp_path / "shop"
    written = copy_examples(target)
    names = {p.relative_to(target).as_posix() for p in written}
    assert {"models/reference_shop.yaml", "models/policies/polly.yaml"} <= names
    assert "scenarios/incidents/primary_gateway_2026-03-14.csv" in names
    assert {f"schemas/{k}.schema.json" for k in ("scenario", "model", "policy")} <= names
    for scenario in (target / "scenarios").glob("*.yaml"):
        loaded = load_scenario(scenario)  # relative model and trace paths still resolve
        assert Path(loaded.source).parent == target / "scenarios"
    for path in target.rglob("*.yaml"):
        match = MODELINE.match(path.read_text(encoding="utf-8"))
        assert match, path
        schema = (path.parent / match.group(1)).resolve()
        assert schema.parent == target / "schemas", path
        json.loads(schema.read_text(encoding="utf-8"))


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    copy_examples(tmp_path)
    edited = tmp_path / "scenarios" / "retry_storm.yaml"
    edited.write_text("my edit\n")
    with pytest.raises(ConfigError, match="already holds models, scenarios, notebooks, schemas"):
        copy_examples(tmp_path)
    assert edited.read_text() == "my edit\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    copy_examples(tmp_path, force=True)
    assert edited.read_text() != "my edit\n"


def test_init_into_a_file_is_bad_input(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(ConfigError, match="not a directory"):
        copy_examples(target)
