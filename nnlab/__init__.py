"""nnlab: neural networks from scratch in numpy."""
