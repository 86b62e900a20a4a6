"""Generation backends: the interface and its implementations."""
