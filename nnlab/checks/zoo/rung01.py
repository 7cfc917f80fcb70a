"""Specimens for the checks of notebook 01. (to be written)"""
