"""The embedded offline backend: schema-driven, deterministic generation with no model."""
