"""The rules of SPEC §4 (compute.py, the oracle) and the reading of cells as people type them (cells.py): pure, standard library only, importing nothing of the project."""
