"""The course's figures: loss curves, decision boundaries, gradient-check bars, digits,
confusion matrices, the XOR success grid and the forward/backward diagram.

Each function validates its input, draws with matplotlib's object-oriented API and
returns the `Figure` (Jupyter shows a returned figure once; elsewhere use
`fig.savefig`). Pass `ax=` to draw into an axes of your own. Importing this package
imports no pyplot, sets no style and shows nothing.
"""

from nnlab.plot.diagram import forward_backward
from nnlab.plot.results import confusion_counts, confusion_matrix, digit_grid, xor_success_grid
from nnlab.plot.training import GRADCHECK_TOL, decision_boundary, gradcheck_report, loss_curves

__all__ = ["GRADCHECK_TOL", "confusion_counts", "confusion_matrix", "decision_boundary",
           "digit_grid", "forward_backward", "gradcheck_report", "loss_curves", "xor_success_grid"]
