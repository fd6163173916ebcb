"""Commands from the office, run once each: the journal, the runner, and remote settings."""
