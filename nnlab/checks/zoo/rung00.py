"""Specimens for the checks of notebook 00. (to be written)"""
