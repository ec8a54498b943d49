"""``python -m sim.cli``: the ``breakerlab`` program."""

from sim.cli import main

main()
