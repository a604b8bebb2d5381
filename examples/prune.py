"""Prune a digits classifier by Optimal Brain Damage and by weight magnitude.

Runs fastmlp.examples.prune, the code behind ``python -m fastmlp prune``; see
``python examples/prune.py --help``.
"""

import sys

from fastmlp.examples.prune import main

if __name__ == "__main__":
    sys.exit(main())
