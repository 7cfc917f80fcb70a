"""Specimens for the checks of notebook 02. (to be written)"""
