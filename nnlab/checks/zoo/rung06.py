"""Specimens for the checks of notebook 06. (to be written)"""
