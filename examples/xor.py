"""XOR: a network without a hidden layer cannot learn it, a 2-2-1 network can.

Runs fastmlp.examples.xor, the code behind ``python -m fastmlp xor``; see
``python examples/xor.py --help``.
"""

import sys

from fastmlp.examples.xor import main

if __name__ == "__main__":
    sys.exit(main())
