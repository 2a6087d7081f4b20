"""Read models (work lists, registers, statistics) arrive with the projections issue."""
