"""Measurements over conversations: grounding of ids, dataset-level figures."""
