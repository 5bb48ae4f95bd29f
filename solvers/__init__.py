"""The algorithms and what runs them, in three places:

- ``solvers.framework``: how an algorithm is declared and run (the registry, the run context with its clock
  and deadline, the solver settings and backend, the formulation protocol and its one solve path, MIP
  starts, the status line);
- ``solvers.formulations``: the models (the paper's MILP, the extended formulation, routing over a fixed
  placement, the memory-capacity LP, the decomposition by server, the window-size relaxation);
- ``solvers.algorithms``: one module per algorithm, each declaring itself to the registry, with the few
  helpers only algorithms use.

Each layer imports only the ones listed before it (tests/test_layers.py)."""
