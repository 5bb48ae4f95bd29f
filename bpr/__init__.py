"""BPR-Bench domain package: instances, performance model, solutions, checker and evaluator.

The model, formulas and file formats are explained in docs/ (model.md, formulations.md, formats.md,
simulator.md), after arXiv 2512.21884 ("the paper").
"""

from bpr.errors import BprInputError

__all__ = ["BprInputError"]
