"""Workflows beneath the CLI: run, sweep and tune a scenario, from input to written
results. Each is one function; ``sim`` exports them (``sim.run``, ``sim.sweep``...)."""
