"""``ferry undo``: revert exactly what one run changed, and nothing the app did since.

Each run records its changeset in Ferry's own tables in the target (:mod:`ferry.load.changeset`);
:func:`undo` reads it back and reverts the run in one transaction (:mod:`ferry.undo.engine`),
with :mod:`ferry.undo.undosql` writing the SQL and :mod:`ferry.undo.result` the outcome.
"""

from __future__ import annotations

from .engine import undo
from .result import UndoRefused, UndoResult, UndoTable

__all__ = ["UndoRefused", "UndoResult", "UndoTable", "undo"]
