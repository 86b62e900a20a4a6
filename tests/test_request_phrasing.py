"""How the embedded generator's users put requests into words (offline/writer.py and the
request entries of offline/phrasebook.yaml): every phrasing fills with the fields the writer
gives it, a field that starts a sentence is capitalised, whole sentences only go where a
phrasing ends with them, and written turns read as punctuated sentences."""

from __future__ import annotations

import re
from string import Formatter

import pytest
from offline_frames import write_bundle

from funcdex_assets.dml.model import UserTurn
from funcdex_assets.dml.parser import parse_dml
from funcdex_assets.offline.language import phrasebook, phrasings
from funcdex_assets.offline.writer import _adds_to_last_step, _ended, _fill, _takes_sentences

TONES = ("friendly", "formal", "terse", "casual")
# Entry -> the fields the writer fills it with.
FIELDS = {
    "greeting": {"name", "first_name", "role", "company"},
    "first_request": {"request"},
    "followup_request": {"request"},
    "then_join": set(),
    "step_first": {"request"},
    "step_next": {"request"},
    "step_last": {"request"},
    "steps_intro": {"n"},
    "list_intro": set(),
    "context_request": {"entity", "label", "request"},
    "it_reference": {"entity"},
    "label_reference": {"entity", "label"},
    "made_reference": {"entity"},
    "same_reference": {"entity"},
    "found_reference": {"entity"},
    "each_reference": {"entity", "entities"},
    "another_copy": {"nth"},
    "mention_values": {"values"},
    "first_goal": {"request"},
    "followup_goal": {"goal"},
    "implicit_delete": {"thing"},
    "implicit_cancel": {"thing"},
    "out_of_scope_request": {"request"},
    "closing_user": set(),
}


@pytest.mark.parametrize("key", sorted(FIELDS))
def test_every_phrasing_uses_only_the_fields_the_writer_gives(key: str) -> None:
    for tone in TONES:
        for template in phrasings(key, tone):
            used = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
            assert used <= FIELDS[key], (key, tone, template)


def test_every_tone_has_phrasings_that_take_whole_sentences() -> None:
    # Steps said as sentences, a list or a context sentence need a phrasing that ends with them.
    for key in ("first_request", "followup_request"):
        for tone in TONES:
            assert sum(_takes_sentences(t) for t in phrasings(key, tone)) >= 3, (key, tone)
            assert sum(not _adds_to_last_step(t) for t in phrasings(key, tone)) >= 10, (key, tone)


def test_a_field_that_starts_a_sentence_is_capitalised() -> None:
    assert _fill("{request}.", {"request": "create an event"}) == "Create an event."
    assert _fill("Great! {request}", {"request": "list the tasks"}) == "Great! List the tasks"
    assert _fill("Could you {request}?", {"request": "list the tasks"}) == "Could you list the tasks?"
    assert _fill("Re: {request}.", {"request": "list it"}) == "Re: list it."  # not after a colon
    assert _fill("{n} things.", {"n": "two"}) == "Two things."
    assert _fill('"{label}" is off.', {"label": "q3 plan"}) == '"q3 plan" is off.'  # data stays as it is


def test_which_phrasings_take_sentences_and_which_add_to_the_last_step() -> None:
    assert _takes_sentences("{request}") and _takes_sentences("Thanks! {request}")
    assert not _takes_sentences("Could you {request}?") and not _takes_sentences("Here: {request}")
    assert _adds_to_last_step("Right, {request} next.") and _adds_to_last_step("OK, {request} too.")
    assert not _adds_to_last_step("{request}, thanks.") and not _adds_to_last_step("Could you {request}?")
    assert _ended("list the tasks") == "list the tasks." and _ended("list it?") == "list it?"


def test_phrasebook_request_entries_are_split_by_tone() -> None:
    book = phrasebook()
    for key in ("greeting", "first_request", "followup_request", "then_join", "label_reference", "closing_user"):
        assert isinstance(book[key], dict) and set(book[key]) - {"any"} == set(TONES), key


@pytest.fixture(scope="module")
def user_turns() -> list[tuple[str, str]]:
    """(tone, text) of the user turns of conversations written for two bundles."""
    out = []
    for bundle in ("jira", "googledrive_googledocs"):
        n = 16
        written = write_bundle(bundle, 8 * n, n)
        personas, conversations = written.personas, written.conversations
        tone = {pid: p for pid, p in zip(personas["persona_id"], personas["persona"])}
        for row in conversations.iter_rows(named=True):
            persona_tone = re.search(r'"tone":\s*"(\w+)"', tone[row["persona_id"]]).group(1)
            out.extend((persona_tone, t.text) for t in parse_dml(row["dml"]).turns if isinstance(t, UserTurn))
    return out


# Punctuation a writer's template could break (values in quotes are data and left out).
_BROKEN = re.compile(r"\?\?|(?<!\.)\.\s*\.(?!\.)|,\s*,|\s[,.?!;:](?=\s|$)|,\.|\.\?|  ")


def test_user_turns_are_punctuated_sentences(user_turns: list[tuple[str, str]]) -> None:
    assert len(user_turns) > 200
    broken = [text for _, text in user_turns if _BROKEN.search(re.sub(r'"[^"]*"', '"Q"', text))]
    assert not broken, broken[:5]
    # A sentence starts with a capital letter, except where a casual user writes lowercase.
    lower = [text for tone, text in user_turns if tone != "casual"
             and re.search(r"^[a-z]|(?<!\.)[.!?]\s+[a-z]", re.sub(r'"[^"]*"', '"Q"', text))]
    assert not lower, lower[:5]
    # Nor a capital in mid-sentence ("Oh btw, That message ..."): a phrasing put inside another
    # is filled as it is.
    mid = [text for _, text in user_turns if re.search(r"\w, (The|That|It|Nobody|We) ", text)]
    assert not mid, mid[:5]


def test_steps_are_said_in_several_ways(user_turns: list[tuple[str, str]]) -> None:
    texts = [text for _, text in user_turns]
    assert any(re.search(r"^1\. .+\n2\. ", text, re.M) for text in texts)  # a numbered list
    assert any(re.search(r"\b(First|To begin|As a first step)\b.*\. (Then|After that|Next|Finally)\b", text)
               for text in texts)  # sentences
    assert any(", then " in text or " and then " in text for text in texts)  # one sentence
