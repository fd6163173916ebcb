"""Touchscreen widgets: translated text, the numeric keypad, tiles and the door panel."""
