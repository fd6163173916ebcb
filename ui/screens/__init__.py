"""Touchscreen screens: Home, each step of each flow, errors, restarting, maintenance."""
