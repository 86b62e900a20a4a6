"""Talking to a model: request/result types, the OpenAI-compatible client, the response cache."""
