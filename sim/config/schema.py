"""JSON Schema of both file kinds, so editors can complete and check them.

The package ships a copy in ``sim/schemas/`` (what ``breakerlab init`` copies and the
example files' ``# yaml-language-server: $schema=...`` line points at); a test keeps that
copy equal to what the models generate (``make schemas`` rewrites it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from sim.config.breakers import PRESETS
from sim.config.model import ShopModel
from sim.config.scenario import Scenario
from sim.version import __version__

SCHEMAS: dict[str, type[BaseModel] | None] = {
    "scenario.schema.json": Scenario,
    "model.schema.json": ShopModel,
    "policy.schema.json": None,  # models/policies/<library>.yaml: built by _policy_schema
}
SHIPPED = Path(__file__).resolve().parent.parent / "schemas"


def schema_of(filename: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one file kind, with an ``$id`` naming it and the
    breakerlab version it describes."""
    model = SCHEMAS[filename]
    schema = model.model_json_schema() if model is not None else _policy_schema()
    if model is Scenario:
        _allow_references(schema)
    kind = filename.removesuffix(".schema.json")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:breakerlab:{__version__}:{kind}",
        **schema,
    }


def render(filename: str) -> str:
    """The schema file's text, exactly as written to disk."""
    return json.dumps(schema_of(filename), indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: str | Path) -> list[Path]:
    """Write one JSON Schema file per file kind into ``directory``; return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename in SCHEMAS:
        path = directory / filename
        path.write_text(render(filename), encoding="utf-8")
        written.append(path)
    return written


def _allow_references(schema: dict[str, Any]) -> None:
    """``from:`` at a configuration or a stage (sim/config/formats/references.py): the loader
    replaces it before validation, so it is the schema's to describe, not the models'."""
    from sim.config.formats import IMPORTERS  # every format's reader: loaded when asked

    definitions = schema["$defs"]
    definitions["ProductionReference"] = {
        "type": "object",
        "description": "a production file whose settings this configuration or stage runs "
        "(the stage's other keys are laid over them)",
        "properties": {
            "file": {"type": "string", "description": "relative to the scenario"},
            "format": {"enum": list(IMPORTERS)},
            "instance": {"type": "string", "description": "default: the stage's name"},
        },
        "required": ["file", "format"],
        "additionalProperties": False,
    }
    reference = {"$ref": "#/$defs/ProductionReference"}
    for name in (
        "Configuration",
        "StagePolicy",
        "InventoryPolicy",
        "PaymentPolicy",
        "NotificationPolicy",
    ):
        definitions[name]["properties"]["from"] = reference


def _policy_schema() -> dict[str, Any]:
    """A policy file (``library:`` and that library's ``defaults:``, the layout of
    models/policies/ and of tune's breaker_policy.yaml): each preset's own parameters, with
    ``preset`` left out since ``library`` names it."""
    defs: dict[str, Any] = {}
    variants = []
    for library, model in PRESETS.items():
        schema = model.model_json_schema(ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        schema["properties"].pop("preset", None)
        required = [name for name in schema.pop("required", []) if name != "preset"]
        if required:
            schema["required"] = required
        defs[model.__name__] = schema
        variants.append(
            {
                "properties": {
                    "library": {"const": library},
                    "defaults": {"$ref": f"#/$defs/{model.__name__}"},
                }
            }
        )
    return {
        "title": "BreakerPolicyFile",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "library": {"enum": list(PRESETS), "description": "the breaker library"},
            "defaults": {"type": "object", "description": "its parameters, its own names"},
        },
        "required": ["library", "defaults"],
        "oneOf": variants,
        "$defs": defs,
    }
