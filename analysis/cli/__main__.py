"""``python -m analysis.cli``: the same as the ``calcsim`` console script."""

import sys

from analysis.cli.main import main

sys.exit(main())
