"""Simulated hardware that speaks the real wire formats, so tests drive the real drivers.

`python -m drivers.sim` serves a virtual lock board on a pseudo-terminal for manual testing.
"""
