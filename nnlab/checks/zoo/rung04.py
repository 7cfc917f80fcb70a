"""Specimens for the checks of notebook 04. (to be written)"""
