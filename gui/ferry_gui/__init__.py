"""Ferry's Qt wizard. It talks to the engine only through the public API (``ferry``,
``ferry.api``; tests/core/test_public_api.py checks it); its own state is in :mod:`.state`."""
