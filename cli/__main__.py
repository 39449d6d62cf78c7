"""`python -m optimizer.cli` = `ppcopt` (used where the console script is not on PATH)."""

import sys

from optimizer.cli.main import main

sys.exit(main())
