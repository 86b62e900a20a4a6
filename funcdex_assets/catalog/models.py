"""The one typed model every tool-definition format is normalised into."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# OpenAI (and vLLM's tool parser) accept only this for function names.
TOOL_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class Tool(BaseModel):
    """One callable tool, whatever format it came from.

    `name` is what the model sees and calls (valid as an OpenAI function name, unique in a
    bundle); `original_name` is the name in the source file, kept so the mapping is reversible.
    """

    model_config = ConfigDict(frozen=True)

    toolkit: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    original_name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    source: str = ""
    source_format: str = ""

    @field_validator("name")
    @classmethod
    def _name_is_openai_safe(cls, value: str) -> str:
        if not TOOL_NAME_PATTERN.match(value):
            raise ValueError(f"tool name {value!r} does not match {TOOL_NAME_PATTERN.pattern}")
        return value

    def openai_function(self) -> dict[str, Any]:
        """The tool as an entry of an OpenAI / TRL `tools` list."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.input_schema,
            },
        }


class Bundle(BaseModel):
    """A named set of toolkits used together; one Dagster partition."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    toolkits: tuple[str, ...]
