"""Benchmarks for nnlab (issues 2 and 4): `python -m bench` or `make bench`.

Each module in this package that defines ``run()``, yielding lines of text, is a
section; the runner pins BLAS to one thread and prints each section's lines as they
come. These are measurements, not tests: they print figures against targets and never
fail on speed.
"""
