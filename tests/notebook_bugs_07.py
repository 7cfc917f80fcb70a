"""Bug injections for notebook 07, the debugging clinic (read by tests/test_notebooks.py).

Each fix cell gets the case's own broken code back, exactly as the notebook prints it, and
its hidden test must score 0 and name the case's bug; case c's code has no bug, so its
check must name the learning rate (B19). One diagnosis cell gets the suspect triage
proposes for case c (B15): a wrong diagnosis names no catalogued bug of the student's
code, so the cell must fail without one.
"""

from nnlab import clinic
from nnlab.checks.rung07 import CASES

BUGS = {
    "07_debugging_clinic": [
        *[(f"train_{case}", clinic.source(case), f"test_train_{case}", truth,
           f"clinic case {case}'s code unfixed") for case, (truth, _) in CASES.items()],
        ("diagnosis_c", 'diagnosis_c = "B15"', "test_diagnosis_c", None,
         "case c named after triage's first suspect"),
    ],
}
