"""`python -m ui --config FILE [--web]`: what textual-serve starts for each browser tab."""

from ui.app import cli

raise SystemExit(cli())
