"""``ferry undo``: revert exactly what one run changed, and nothing the app did since.

Each run records its changeset in Ferry's own tables in the target (:mod:`ferry.load.changeset`);
:func:`ferry.undo.engine.undo` reads it back and reverts the run in one transaction, with
:mod:`ferry.undo.undosql` writing the SQL and :mod:`ferry.undo.result` the outcome. Front ends
call it as ``ferry.api.undo``.
"""
