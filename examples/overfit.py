"""Overfitting and three cures: L2 weight decay, L1 and dropout.

Runs fastmlp.examples.overfit, the code behind ``python -m fastmlp overfit``; see
``python examples/overfit.py --help``.
"""

import sys

from fastmlp.examples.overfit import main

if __name__ == "__main__":
    sys.exit(main())
