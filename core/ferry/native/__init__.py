"""The SQLite-native fast path: SQLite itself maps a SQLite source's cells into a
SQLite target, exactly as Ferry's Python mapping would."""
