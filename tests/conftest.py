import sys
from pathlib import Path

import numpy as np
import pytest

# tests/factories.py is imported as a plain module by the tests.
sys.path.insert(0, str(Path(__file__).parent))

from factories import tiny  # noqa: E402

from bpr.perf import Placement  # noqa: E402
from bpr.simulator import Arrivals  # noqa: E402


@pytest.fixture
def three():
    """One server with both blocks; three requests at 0, 1, 2 s; each holds 0.2 GB for 10.2 s (offline service
    time)."""
    inst = tiny(2, M=[10], tau=[0.01], t=[[1.0]], R=3, l_out=10)
    return inst, Placement.of([1], [2]), Arrivals(np.array([0.0, 1.0, 2.0]), np.zeros(3, dtype=int))
