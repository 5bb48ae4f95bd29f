"""BPR-Bench domain package: instances, performance model, solutions, checker and evaluator.

The model, formulas and file formats follow ../shared/SPEC.md (arXiv 2512.21884, "the paper").
"""

from bpr.errors import BprInputError

__all__ = ["BprInputError"]
