"""breakerlab's version, in the ground layer so every layer may name it (``sim.__version__``
re-exports it; hatch reads it from here when building)."""

__version__ = "0.1.0"
