"""Prompt templates: one Jinja2 file per stage in `prompts/`, rendered into chat messages.

A template's text before the line `=== user ===` is the system message, the rest the user
message (a template without the marker is a single user message). `template_version(stage)`
is a hash of the file, folded into the consuming asset's code_version so the UI shows what a
prompt edit made stale.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

PROMPT_DIR = Path(__file__).with_name("prompts")
USER_MARKER = "=== user ==="

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(PROMPT_DIR)),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
    autoescape=False,
)


def render_messages(stage: str, **context: Any) -> tuple[dict[str, str], ...]:
    text = _env.get_template(f"{stage}.j2").render(**context)
    if USER_MARKER in text:
        system, user = text.split(USER_MARKER, 1)
        return ({"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()})
    return ({"role": "user", "content": text.strip()},)


@lru_cache(maxsize=None)
def template_version(*stages: str) -> str:
    digest = hashlib.blake2b(digest_size=4)
    for stage in stages:
        digest.update((PROMPT_DIR / f"{stage}.j2").read_bytes())
    return digest.hexdigest()
