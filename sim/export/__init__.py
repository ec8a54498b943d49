"""A scenario's faults for the real system: Chaos Toolkit experiments and Toxiproxy toxics.

Depends only on ``sim.config``: export reads a scenario, it never simulates one.
"""
