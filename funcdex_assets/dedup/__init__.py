"""Near-duplicate removal."""
