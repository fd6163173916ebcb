"""The HLK-LD2410 24 GHz presence radar: a pure codec and a serial reader."""
