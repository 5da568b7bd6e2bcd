"""``python -m ferry``: the same as the ``ferry`` command."""

from ferry.launch import main

main()
