"""Checks for notebook 02. (to be written)"""

__all__: list[str] = []
