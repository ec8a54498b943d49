"""User-facing file formats: pydantic schemas and YAML loading of models and scenarios, and
production resilience configurations in and out (``formats``). Never imports simpy."""

from sim.config.loader import load_any, load_model, load_scenario
from sim.config.model import ShopModel
from sim.config.scenario import Configuration, LoadedScenario, Scenario

__all__ = [
    "Configuration",
    "LoadedScenario",
    "Scenario",
    "ShopModel",
    "load_any",
    "load_model",
    "load_scenario",
]
