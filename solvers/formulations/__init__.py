"""The models, each a ``Formulation`` (solvers/framework/formulation.py) solved through the one path:
``milp`` (the paper's MILP, eq. 13), ``extended`` (BPR-Bench's extended formulation, also restricted to a
neighbourhood or a fixed placement), ``routing_model`` (routing over a placement as a persistent HiGHS
model), ``capacity`` (the memory-capacity LP), ``decomposition`` (by server) and ``window_sizes`` (the
window-size relaxation). docs/formulations.md has the mathematics."""
