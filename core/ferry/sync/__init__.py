"""Keeping a target in step with sources the application keeps writing (issue 20).

:mod:`ferry.sync.loop` runs delta syncs in a loop (``ferry sync``), each one a journaled
migrate run; :mod:`ferry.sync.cutover` is the final sync of the freeze window (``ferry
cutover``): quiet sources, the last run, the verdict, the reverse plan and the report.
:mod:`ferry.sync.durations` reads ``30s`` / ``2m`` / ``1h``.
"""
