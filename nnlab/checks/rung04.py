"""Checks for notebook 04. (to be written)"""

__all__: list[str] = []
