"""JSON Schema of both file kinds, so editors can complete and check them."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from sim.config.model import ShopModel
from sim.config.scenario import Scenario

SCHEMAS: dict[str, type[BaseModel]] = {
    "scenario.schema.json": Scenario,
    "model.schema.json": ShopModel,
}


def write_schemas(directory: str | Path) -> list[Path]:
    """Write one JSON Schema file per file kind into ``directory``; return their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, model in SCHEMAS.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        path = directory / filename
        path.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written
