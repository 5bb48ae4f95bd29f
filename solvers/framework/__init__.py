"""How an algorithm is declared and run: ``registry`` (declaration, discovery, the runner's guard),
``context`` (the run's clock, deadline and phases), ``settings`` and ``backend`` (the MILP/LP solver),
``formulation`` (the protocol every model follows and the one path that solves it), ``starts`` (solutions
that start a search or a MIP) and ``status_line`` (what a model-based run shows while it works)."""
