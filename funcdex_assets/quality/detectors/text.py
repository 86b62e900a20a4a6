"""Text that is not a person talking: `garbled_text`, `doubled_word` and `prompt_leak`.

`garbled_text`: a user or assistant message that is not language: random characters, mojibake,
a model sampling noise under a grammar it satisfies.

A message of at least 20 characters is garbled when most of its whitespace-separated tokens are
not word-like, and the tokens are either very long (text with almost no spaces) or almost none
are words. A token is word-like after stripping surrounding punctuation when at least 80% of it
is letters (any script: "don't", "e.g", a Japanese sentence written without spaces), or it is a
number, time, date or amount ("3pm", "10:30", "$25", "2026-03-02"), an email address, a URL,
or an identifier ("evt_8842", "PROJ-115", "#1047"). Pasted JSON or code keeps its words once
punctuation is stripped, so it is not garbled; random printable characters are about 55%
letters.

`doubled_word`: a user or assistant message with a word written twice in a row outside quoted
values ("cancel that scheduled event event?"), a template filled with a phrase that already
ends in the word it adds.

`prompt_leak`: a user message that carries the generator's instructions: a label such as
"Background:", "Context:", "Scenario:" or "Here's what I'm trying to do:" followed by a sentence
about a generic third person ("A recruiter wants to list the threads ..."). A user speaks for
themselves; the model would learn to expect its own prompt in the user's words.
"""

from __future__ import annotations

import re

from funcdex_assets.quality.dialogue import Dialogue
from funcdex_assets.quality.findings import Finding

_STRIP = "\"'`.,!?;:()[]{}<>«»“”‘’…*-–—|。、！？「」（）"
_LETTER = re.compile(r"[^\W\d_]")
_NUMBER = re.compile(r"^[$€£¥#+-]?\d[\d,.:/%x-]*(?:[a-zA-Z]{1,4})?$")
_IDENT = re.compile(r"^(?=.*\d)[A-Za-z0-9_#./:+-]+$|^[\w.+-]+@[\w.-]+$|^https?://\S+$|^/[\w./-]+$")
MIN_CHARS = 20


def word_like(token: str) -> bool:
    t = token.strip(_STRIP)
    return not t or len(_LETTER.findall(t)) >= 0.8 * len(t) or bool(_NUMBER.match(t) or _IDENT.match(t))


def garbled(text: str) -> bool:
    tokens = text.split()
    if len(text) < MIN_CHARS or not tokens:
        return False
    words = sum(word_like(t) for t in tokens) / len(tokens)
    mean_length = sum(len(t) for t in tokens) / len(tokens)
    return words < 0.5 and (mean_length > 15 or (words < 0.25 and len(tokens) >= 4))


def garbled_text(d: Dialogue) -> list[Finding]:
    for m in d.messages:
        if m.role in ("user", "assistant") and garbled(m.text):
            shown = m.text if len(m.text) <= 60 else m.text[:57] + "..."
            return [Finding(code="garbled_text", message_index=m.index,
                            message=f"the {m.role}'s message is not language: {shown!r}")]
    return []


_LEAK = re.compile(
    r"\b(?:background|context|scenario|goal|task|persona|objective|here'?s what i'?m trying to do)\s*:\s*"
    r"(?:for (?:the|a|an) [^.:]{1,60}?,\s*)?an?\s+(?:[a-z][\w/&-]*\s+){1,5}?"
    r"(?:wants|needs|has|is handling|is working|must|should)\b", re.I)


def prompt_leak(d: Dialogue) -> list[Finding]:
    for m in d.messages:
        if m.role == "user":
            found = _LEAK.search(m.text)
            if found:
                return [Finding(code="prompt_leak", message_index=m.index,
                                message=f"the user's message carries the scenario: {found.group(0)!r}")]
    return []


_QUOTED = re.compile(r'"[^"]*"|“[^”]*”')
# Same word, same case ("to To Do" is a status; "add add-ons" a compound). The offline writer
# says such a word once with the same pattern (offline/writer.py `_once`).
DOUBLED = re.compile(r"\b([A-Za-z]{2,})\s+\1\b(?![-'’])")
MAY_DOUBLE = frozenset({"that", "had", "is", "ha", "bye", "no", "very", "so", "really", "yes", "ok", "okay", "go",
                        "lol", "haha", "please", "pls", "cool", "nice", "great", "sure", "yeah", "yep", "right",
                        "thanks", "wait", "hey", "hi", "now", "well"})


def doubled_word(d: Dialogue) -> list[Finding]:
    for m in d.messages:
        if m.role not in ("user", "assistant"):
            continue
        hit = next((h for h in DOUBLED.finditer(_QUOTED.sub('""', m.text)) if h.group(1).lower() not in MAY_DOUBLE), None)
        if hit:
            return [Finding(code="doubled_word", message_index=m.index,
                            message=f"the {m.role} writes {hit.group(0)!r}")]
    return []
