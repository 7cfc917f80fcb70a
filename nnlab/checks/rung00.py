"""Checks for notebook 00. (to be written)"""

__all__: list[str] = []
