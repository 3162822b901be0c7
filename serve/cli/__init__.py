"""The `ludex` command (`ludex.py`) and its subcommand groups; `python -m serve.cli` runs it."""
