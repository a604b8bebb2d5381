"""Universal approximation: one hidden layer fits a smooth curve as it widens.

Runs fastmlp.examples.approximate, the code behind
``python -m fastmlp approximate``; see ``python examples/approximate.py --help``.
"""

import sys

from fastmlp.examples.approximate import main

if __name__ == "__main__":
    sys.exit(main())
