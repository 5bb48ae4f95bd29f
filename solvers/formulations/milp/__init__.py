"""The paper's MILP (eq. 13; docs/formulations.md §1): variables, constraint families, objective, model."""
