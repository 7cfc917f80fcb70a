"""Bug injections for notebook 07, the debugging clinic (read by tests/test_notebooks.py).

They live in autograder/injections.py with every other notebook's, since the demo class
is built from them too.
"""

from autograder.injections import BUGS_07 as BUGS  # noqa: F401
