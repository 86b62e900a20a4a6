"""funcdex-assets: multi-turn function-calling dataset synthesis as a Dagster asset graph."""

__version__ = "0.1.0"
