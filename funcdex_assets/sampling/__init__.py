"""Tool graph and grounded tool-combination sampling."""
