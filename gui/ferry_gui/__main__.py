"""``python -m ferry_gui``."""

import sys

from .app import main

sys.exit(main())
