"""Calibration: a dependency's model (latency, outcome rates, capacity) fitted from
monitoring data, per-call records (``calls_csv``) or Prometheus (``prometheus``).
``fit`` holds the statistics, ``capacity`` reads queueing from the records,
``per_dependency`` puts both inputs' fits into the model's own vocabulary."""
