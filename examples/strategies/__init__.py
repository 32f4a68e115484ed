"""Example strategies written in Python."""
