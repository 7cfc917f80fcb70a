"""Specimens for the checks of notebook 03. (to be written)"""
