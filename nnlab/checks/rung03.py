"""Checks for notebook 03. (to be written)"""

__all__: list[str] = []
