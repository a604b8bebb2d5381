"""Runnable examples of classic MLP results: ``python -m fastmlp <name>``."""
