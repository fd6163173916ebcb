"""The `station` command: the one entry point above every package.

It starts the daemon (`station`), the touchscreen (`ui`), the central server (`central`) or
the whole demo, which is why it lives above them: nothing of ours imports it.
"""
