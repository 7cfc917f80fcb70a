"""Checks for notebook 05. (to be written)"""

__all__: list[str] = []
