"""Specimens for the checks of notebook 05. (to be written)"""
