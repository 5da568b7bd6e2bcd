"""``python -m ferry_gui``."""

import sys

from .launch import main

sys.exit(main())
