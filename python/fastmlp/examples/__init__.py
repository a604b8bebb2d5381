"""Runnable examples, each also a ``python -m fastmlp`` subcommand."""
