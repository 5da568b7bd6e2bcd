"""Ferry's Qt wizard. It talks to the engine only through :mod:`ferry`'s public API."""
