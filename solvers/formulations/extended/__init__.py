"""BPR-Bench's extended formulation (docs/formulations.md §2): variables, constraint families, objective,
model."""
