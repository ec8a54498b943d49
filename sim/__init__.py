"""breakerlab: a discrete-event failure simulator for e-commerce order pipelines."""

__version__ = "0.1.0"
