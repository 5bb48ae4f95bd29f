"""One module per algorithm, each declaring itself with ``solvers.framework.registry.algorithm`` (name, kind,
options, result columns); the registry finds every declaring module of this package by reading its source,
so adding an algorithm is adding a module (docs/contributing.md). The modules that declare nothing are
helpers of the algorithms: ``heuristic_starts`` (the heuristics' solutions as starts), ``design_load`` (the
choice of R, docs/model.md §7.3), ``placement_search`` (the first phase of ``lns``) and ``policies`` (the
online routing policies)."""
