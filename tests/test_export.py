"""breakerlab export: Chaos Toolkit experiments checked by chaostoolkit-lib's own validation,
Toxiproxy JSON checked against the attributes each toxic type takes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chaoslib.exceptions import InvalidActivity
from chaoslib.experiment import ensure_experiment_is_valid

from sim.app.export import export_scenario
from sim.config import load_scenario
from sim.errors import ConfigError
from sim.export.mapping import MAPPING, TOXIC_ATTRIBUTES, plan_faults

ROOT = Path(__file__).resolve().parents[1]
FLASH_SALE = ROOT / "scenarios" / "flash_sale_gateway_outage.yaml"
TUNING = ROOT / "scenarios" / "tuning_example.yaml"
TRACE = ROOT / "scenarios" / "incidents" / "primary_gateway_2026-03-14.csv"

EVERY_KIND = f"""
name: every-kind
model: {ROOT / "models" / "reference_shop.yaml"}
horizon: 60m
traffic:
  rate: 5/s
  basket: {{constant: 50}}
  patience: {{exponential: {{mean: 30s}}}}
faults:
  - {{target: primary, kind: outage, start: 10m, duration: 2m, probability: 40%}}
  - {{target: inventory_service, kind: error_rate, category: timeout, start: 11m, duration: 1m}}
  - {{target: orders_db, kind: error_rate, category: connection, start: 11m, duration: 1m}}
  - {{target: secondary, kind: error_rate, start: 12m, duration: 1m}}
  - {{target: primary, kind: latency, multiplier: 3, add: 100ms, jitter: 10%, start: 13m,
     duration: 5m, ramp: 1m}}
  - {{target: fulfillment, kind: hang, start: 14m, duration: 1m, probability: 0.5}}
  - {{target: primary, kind: capacity, capacity: 5, start: 15m, duration: 1m}}
  - {{target: email, kind: flapping, down: 20s, up: 40s, start: 16m, duration: 150s}}
  - {{target: checkout, kind: crash, start: 17m, duration: 1m}}
  - {{target: primary, kind: trace, file: {TRACE}, start: 20m}}
configurations:
  plain: {{}}
"""


@pytest.fixture()
def every_kind(tmp_path: Path) -> Path:
    path = tmp_path / "every_kind.yaml"
    path.write_text(EVERY_KIND, encoding="utf-8")
    return path


def _export(scenario: Path, configuration: str, fmt: str, out: Path) -> dict[str, Any]:
    export_scenario(scenario, configuration, fmt, out)  # type: ignore[arg-type]
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_flagship_experiment_passes_chaostoolkit_validation(tmp_path: Path) -> None:
    experiment = _export(FLASH_SALE, "breaker-failover", "chaostoolkit", tmp_path / "e.json")
    ensure_experiment_is_valid(experiment)
    add, remove = experiment["method"]
    assert add["provider"]["func"] == "create_toxic"
    assert add["provider"]["arguments"]["toxic_type"] == "reset_peer"
    assert add["provider"]["arguments"]["for_proxy"] == "primary"
    assert "pauses" not in add  # time 0 is the first fault
    assert remove["provider"]["func"] == "delete_toxic"
    assert remove["pauses"] == {"before": 480.0}  # the outage lasts 8 minutes
    (rollback,) = experiment["rollbacks"]
    assert rollback["provider"]["arguments"] == remove["provider"]["arguments"]
    assert experiment["extensions"][0]["settings"]["payment"]["fallback"] == "secondary"
    probes = experiment["steady-state-hypothesis"]["probes"]
    assert [p["name"] for p in probes] == ["revenue_lost_pct < 2%", "checkout_p99_s < 3"]


def test_a_configuration_without_hypotheses_says_so(tmp_path: Path) -> None:
    """The flagship's hypotheses name breaker-failover only: no-breaker gets none, and the
    experiment says so rather than holding an empty hypothesis."""
    experiment = _export(FLASH_SALE, "no-breaker", "chaostoolkit", tmp_path / "e.json")
    ensure_experiment_is_valid(experiment)
    assert "steady-state-hypothesis" not in experiment
    assert "No steady-state hypothesis" in experiment["description"]


def test_validation_really_checks_the_activities(tmp_path: Path) -> None:
    """The test above means something: a misspelt argument of the extension's function is
    caught, because chaoslib imports chaostoxi and binds the arguments."""
    experiment = _export(FLASH_SALE, "breaker-failover", "chaostoolkit", tmp_path / "e.json")
    experiment["method"][0]["provider"]["arguments"]["proxy"] = "primary"
    with pytest.raises(InvalidActivity):
        ensure_experiment_is_valid(experiment)


def test_hypotheses_become_prometheus_probes_for_the_configuration(tmp_path: Path) -> None:
    experiment = _export(TUNING, "breaker-failover", "chaostoolkit", tmp_path / "e.json")
    ensure_experiment_is_valid(experiment)
    probes = experiment["steady-state-hypothesis"]["probes"]
    assert [p["name"] for p in probes] == ["revenue_lost_pct < 5%", "checkout_p99_s < 3"]
    query = probes[0]["provider"]["arguments"]["query"]
    assert query == "(${query_revenue_lost_pct}) < bool 5"
    assert probes[0]["tolerance"]["expect"] == "1"
    assert experiment["configuration"]["query_checkout_p99_s"]["default"] == (
        "breakerlab:checkout_p99_s"
    )
    loaded = load_scenario(TUNING)
    other = next(n for n in loaded.scenario.configurations if n != "breaker-failover")
    experiment = _export(TUNING, other, "chaostoolkit", tmp_path / "other.json")
    names = [p["name"] for p in experiment["steady-state-hypothesis"]["probes"]]
    assert names == ["checkout_p99_s < 3"]  # the first hypothesis names breaker-failover only


def test_every_fault_kind_maps_or_is_listed(every_kind: Path, tmp_path: Path) -> None:
    result = export_scenario(every_kind, "plain", "chaostoolkit", tmp_path / "e.json")
    experiment = json.loads(result.path.read_text(encoding="utf-8"))
    ensure_experiment_is_valid(experiment)
    unmapped_kinds = sorted(text.split()[1] for text in result.unmapped)
    assert unmapped_kinds == ["capacity", "crash", "error_rate", "trace"]
    for text in result.unmapped:
        assert text in experiment["description"]
    assert any("server_error" in text for text in result.unmapped)
    added = [
        step["provider"]["arguments"]
        for step in experiment["method"]
        if step["provider"]["func"] == "create_toxic"
    ]
    by_name = {a["toxic_name"]: a for a in added}
    assert by_name["outage-primary-f0"]["toxicity"] == 0.4
    assert by_name["outage-primary-f0"]["toxic_type"] == "reset_peer"
    assert by_name["error_rate-inventory_service-f1"]["toxic_type"] == "timeout"
    assert by_name["error_rate-orders_db-f2"]["toxic_type"] == "reset_peer"
    # 3 x the primary's 350 ms median is 700 ms more, plus 100 ms; jitter 10 % of that.
    assert by_name["latency-primary-f4"]["attributes"] == {"latency": 800, "jitter": 80}
    assert by_name["hang-fulfillment-f5"] == {
        "for_proxy": "fulfillment",
        "toxic_name": "hang-fulfillment-f5",
        "toxic_type": "timeout",
        "stream": "downstream",
        "toxicity": 0.5,
        "attributes": {"timeout": 0},
    }
    # 150 s of 20 s down / 40 s up: down at 0, 60 and 120 s.
    flaps = sorted(n for n in by_name if n.startswith("flapping"))
    assert flaps == [f"flapping-email-f7-{k}" for k in range(3)]
    assert any("ramp" in note for note in result.notes)
    assert any("multiplier 3" in note for note in result.notes)
    removed = {s["provider"]["arguments"]["toxic_name"] for s in experiment["rollbacks"]}
    assert removed == set(by_name)


def test_method_follows_the_scenario_timeline(every_kind: Path) -> None:
    plan = plan_faults(load_scenario(every_kind))
    flaps = [t for t in plan.toxics if t.proxy == "email"]
    assert [(t.start, t.end) for t in flaps] == [(360.0, 380.0), (420.0, 440.0), (480.0, 500.0)]
    assert plan.origin == 600.0  # the first fault, at 10 minutes, is time 0


def test_toxiproxy_attributes_are_those_each_toxic_type_takes(
    every_kind: Path, tmp_path: Path
) -> None:
    document = _export(every_kind, "plain", "toxiproxy", tmp_path / "t.json")
    assert document["toxics"]
    for entry in document["toxics"]:
        toxic = entry["toxic"]
        assert set(toxic) == {"name", "type", "stream", "toxicity", "attributes"}
        assert set(toxic["attributes"]) == TOXIC_ATTRIBUTES[toxic["type"]]
        assert 0 <= toxic["toxicity"] <= 1 and toxic["stream"] in ("upstream", "downstream")
        assert all(isinstance(v, int) for v in toxic["attributes"].values())
    for proxy in document["proxies"]:
        assert set(proxy) == {"name", "listen", "upstream", "enabled"}
    assert {p["name"] for p in document["proxies"]} == {e["proxy"] for e in document["toxics"]}
    adds = [c for c in document["toxiproxy_cli"] if " toxic add " in c]
    assert len(adds) == len(document["toxics"])
    assert len(document["unmapped"]) == 4


def test_attribute_table_agrees_with_the_chaostoolkit_extension(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Our table of attributes against what chaostoolkit-toxiproxy's helpers send."""
    import chaostoxi.toxiproxyapi as api
    from chaostoxi.toxic import actions

    sent: dict[str, set[str]] = {}

    def capture(proxy_name: str, toxic_json: dict[str, Any], configuration: Any) -> dict[str, Any]:
        sent[toxic_json["type"]] = set(toxic_json["attributes"])
        return {"name": toxic_json["name"]}

    monkeypatch.setattr(api, "create_toxic", capture)
    actions.create_latency_toxic("p", "t", latency=1, jitter=0)
    actions.create_bandwith_degradation_toxic("p", "t", rate=1)
    actions.create_slow_connection_close_toxic("p", "t", delay=1)
    actions.create_timeout_toxic("p", "t", timeout=1)
    actions.create_slicer_toxic("p", "t", average_size=1, size_variation=1, delay=1)
    actions.create_limiter_toxic("p", "t", bytes_limit=1)
    assert len(sent) == 6
    for kind, attributes in sent.items():
        assert TOXIC_ATTRIBUTES[kind] == attributes


def test_upstreams_name_each_proxy_target(every_kind: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    export_scenario(every_kind, "plain", "toxiproxy", out, {"primary": "pay.staging:8443"})
    proxies = {p["name"]: p for p in json.loads(out.read_text(encoding="utf-8"))["proxies"]}
    assert proxies["primary"]["upstream"] == "pay.staging:8443"
    assert proxies["email"]["upstream"] == "email:443"


def test_unknown_configuration_names_the_line_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "e.json"
    with pytest.raises(ConfigError) as caught:
        export_scenario(FLASH_SALE, "breaker-failvoer", "chaostoolkit", out)
    assert caught.value.file == str(FLASH_SALE)
    assert caught.value.line is not None and caught.value.line > 1
    assert "did you mean 'breaker-failover'" in caught.value.message
    assert not out.exists()


@pytest.mark.parametrize(
    ("upstreams", "message"),
    [({"primray": "a:1"}, "not a dependency"), ({"primary": "nohost"}, "host:port")],
)
def test_bad_upstreams_are_refused(tmp_path: Path, upstreams: dict[str, str], message: str) -> None:
    out = tmp_path / "t.json"
    with pytest.raises(ConfigError, match=message):
        export_scenario(FLASH_SALE, "breaker-failover", "toxiproxy", out, upstreams)
    assert not out.exists()


def test_mapping_table_covers_every_fault_kind() -> None:
    from sim.config.scenario import Fault

    kinds = {m.model_fields["kind"].annotation.__args__[0] for m in Fault.__origin__.__args__}
    assert kinds == set(MAPPING)
