"""Numerical routines: small functions of arrays, each with its formula in the docstring."""
