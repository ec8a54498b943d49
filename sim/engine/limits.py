"""How long a run goes on after its horizon: apart, so the size estimate can read it
without loading the engine."""

DRAIN_LIMIT = 3600.0  # after the horizon, orders in flight get this long to finish
DRAIN_STEP = 60.0  # and the run checks every minute whether they all have
