"""Entry point of ``python -m fastmlp``; see fastmlp._cli for the commands."""

from ._cli import main

raise SystemExit(main())
