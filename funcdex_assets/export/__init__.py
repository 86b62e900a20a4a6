"""Turning validated conversations into training rows and files."""
