"""Tool catalog: typed tool definitions and loaders for the supported input formats."""
