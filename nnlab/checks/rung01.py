"""Checks for notebook 01. (to be written)"""

__all__: list[str] = []
