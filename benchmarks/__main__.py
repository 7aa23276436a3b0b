"""``python -m benchmarks``: the whole suite (see docs/benchmarks.md)."""

import sys

from .run import main

sys.exit(main())
