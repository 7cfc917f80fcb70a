"""Interactive widgets: one neuron under the student's hands, and XOR training live.

`interactive_neuron()` (notebook 01) puts sliders on w1, w2 and b over a truth table;
`live_training()` (notebook 04) trains a 2-h-1 network on XOR and redraws its loss and
decision boundary as it learns. Both build their ipywidgets only when called (nothing
is created or displayed at import) and expose their state (`.sliders` / `.controls`,
`.outputs`, `.figure`, `.update()`), so they can be driven and tested without a browser.
"""

from nnlab.widgets._common import GATES
from nnlab.widgets.live import LiveTraining, live_training
from nnlab.widgets.neuron import InteractiveNeuron, interactive_neuron

__all__ = ["GATES", "InteractiveNeuron", "LiveTraining", "interactive_neuron",
           "live_training"]
