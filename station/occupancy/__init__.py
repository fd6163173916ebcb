"""Occupancy of the rest area: PIR and radar fused into a state, sessions, fan and light.

The modules are imported by name (station.occupancy.config, .tracker, .assembly): this package
imports nothing itself, because station/config.py imports the config section from here.
"""
