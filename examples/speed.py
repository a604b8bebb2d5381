"""Training speed against batch size: fastmlp against its NumPy reference.

Runs fastmlp.examples.speed, the code behind ``python -m fastmlp speed``; see
``python examples/speed.py --help``.
"""

import sys

from fastmlp.examples.speed import main

if __name__ == "__main__":
    sys.exit(main())
