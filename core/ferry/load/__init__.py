"""Loading rows into a target table: batches, load modes, re-runs, differences, the journal."""
