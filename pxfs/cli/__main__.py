"""``python -m pxfs.cli``: the ``pxfs`` command."""

import sys

from ._main import main

sys.exit(main())
