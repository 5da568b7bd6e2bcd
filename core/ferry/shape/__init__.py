"""The shape of databases: target schemas, source tables, types across dialects, DDL,
views, carried objects and identifiers."""
