"""Checks that tell a student not only that an implementation is wrong but which bug it has.

One check per graded name (`check_sigmoid`, `check_dense`, ...). A check returns quietly
when the object is right and raises `CheckFailed` (an `AssertionError`) whose `bug` is
the catalogue id ("B1" ... "B19", or None) and whose message is the diagnosis. Visible
and hidden test cells call the same checks; hidden ones pass ``hidden=True``.
"""

from nnlab.checks._core import CATALOGUE, REGISTRY, CheckFailed
from nnlab.checks.rung00 import *  # noqa: F401,F403
from nnlab.checks.rung01 import *  # noqa: F401,F403
from nnlab.checks.rung02 import *  # noqa: F401,F403
from nnlab.checks.rung03 import *  # noqa: F401,F403
from nnlab.checks.rung04 import *  # noqa: F401,F403
from nnlab.checks.rung05 import *  # noqa: F401,F403
from nnlab.checks.rung06 import *  # noqa: F401,F403
from nnlab.checks.rung07 import *  # noqa: F401,F403
from nnlab.checks.triage import triage  # noqa: F401

__all__ = ["CATALOGUE", "REGISTRY", "CheckFailed", "triage", *REGISTRY]
