"""The wizard's pages by number: the usual path, then the pages off it (reached from Start, or
from the Migrate page after "Keep in sync"). A module of its own so pages can name each other
without importing the wizard."""

from __future__ import annotations

from enum import IntEnum


class PageId(IntEnum):
    START = 0
    BACKUP = 1
    CONNECT = 2
    PREVIEW = 3
    MIGRATE = 4
    VERIFY = 5
    FINISH = 6
    #: the freeze window's final sync: after "Keep in sync", or from Start ("Cut over…")
    CUTOVER = 7
    #: the plan's run history, from Start ("Run history…")
    RUNS = 8
