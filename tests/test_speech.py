"""How the offline user states values (offline/speech.py): never a form read out, dates in
words, each part with its own connector."""

from __future__ import annotations

import random

import pytest
from conversation_builder import assistant, call, conversation, user

from funcdex_assets.offline.speech import say, spoken_date
from funcdex_assets.quality.detectors import detect
from funcdex_assets.quality.dialogue import dialogue_from_row

ARGS = [
    {"maxResults": 25, "q": "invoice overdue"},
    {"summary": "Q3 planning", "priority": "Medium", "labels": ["launch", "ops"], "project_key": "OPS"},
    {"timeMin": "2026-03-05T10:00:00Z", "timeMax": "2026-03-09T18:00:00Z", "showDeleted": True},
    {"description": "Customer asked about the refund.", "name": "Dana Ruiz", "phone": "+16318095383"},
    {"start": {"dateTime": "2026-03-05T10:00:00Z"}, "end": {"dateTime": "2026-03-05T11:00:00Z"}, "limit": 5},
    {"due_on": "2026-04-30", "notes": "Bring the figures.", "completed": False},
]


@pytest.mark.parametrize("args", ARGS)
@pytest.mark.parametrize("seed", range(6))
def test_stated_values_are_never_read_out_as_parameters(args, seed):
    text = "Could you do that " + say(random.Random(seed), args) + "?"
    row = conversation(user(text), assistant("", call("do_it", args, {"ok": True})), assistant("Done."))
    found = [f for f in detect(dialogue_from_row(row)) if f.code == "parameter_dictation"]
    assert not found, (text, found)


def test_dates_are_said_in_words_and_windows_read_as_one():
    assert spoken_date("2026-03-05") == "March 5, 2026"
    assert spoken_date("2026-03-05T10:00:00Z") == "March 5, 2026 at 10:00 UTC"
    assert spoken_date("2026-03-05T10:00:00+02:00") == "March 5, 2026 at 10:00 +02:00"
    assert spoken_date("next week") is None and spoken_date("2026-13-45") is None
    text = say(random.Random(1), {"timeMin": "2026-03-05T10:00:00Z", "timeMax": "2026-03-09T18:00:00Z"})
    assert ("from March 5" in text or "starting March 5" in text) and ("until March 9" in text or "ending March 9" in text)


def test_each_part_carries_its_connector():
    text = say(random.Random(2), {"summary": "Q3 planning", "priority": "Medium", "maxResults": 3})
    assert text.count(",") + text.count(" and ") >= 2
    assert any(w in text for w in ("called", "titled", "named"))
    assert any(w in text for w in ("just the first 3", "no more than 3", "the top 3"))
    assert " but " not in text  # a count joins with "and": never "... and but only the first 3"
    assert say(random.Random(0), {"to": "+15550100"}) in ("to +15550100", "for +15550100")
    assert say(random.Random(0), {}) == ""


def test_speakable_values_are_what_people_say():
    from funcdex_assets.offline.speech import speakable

    enum = {"type": "string", "enum": ["labelShow", "labelHide", "High", "blue"]}
    assert speakable("priority", "High", enum) and speakable("color", "blue", enum)
    assert not speakable("label_list_visibility", "labelShow", enum)
    assert not speakable("send_updates", "externalOnly", {"type": "string", "enum": ["externalOnly", "all"]})
    assert speakable("summary", "Q3 planning", {"type": "string"})
    assert speakable("start", "2026-03-05T10:00:00Z", {"type": "string"})
    assert speakable("cc", ["dana@acme.io"], {"type": "array", "items": {"type": "string"}})
    # Filler in a free string field, switches: not said. Labels, places and natural-language
    # due dates are (the values generator gives them label, place and date words).
    assert not speakable("visibility_role", "compare", {"type": "string"})
    assert speakable("labels", ["urgent", "q3"], {"type": "array", "items": {"type": "string"}})
    assert speakable("location", "Berlin office, 3rd floor", {"type": "string"})
    assert speakable("due_string", "every friday", {"type": "string"})
    assert not speakable("notify", True, {"type": "boolean"})


def test_a_tone_split_entry_gives_everyones_phrasings_plus_the_tones_own(monkeypatch):
    from funcdex_assets.offline import language

    book = {"ask": {"any": ["Can you {x}?"], "terse": ["{x}."], "formal": ["Would you kindly {x}?"]},
            "plain": ["Please {x}."]}
    monkeypatch.setattr(language, "phrasebook", lambda: book)
    assert language.phrasings("ask", "terse") == ["Can you {x}?", "{x}."]
    assert language.phrasings("ask", "formal") == ["Can you {x}?", "Would you kindly {x}?"]
    # No tone, or one without a list of its own: every phrasing.
    assert language.phrasings("ask") == ["Can you {x}?", "{x}.", "Would you kindly {x}?"]
    assert language.phrasings("ask", "casual") == language.phrasings("ask")
    assert language.phrasings("plain", "terse") == ["Please {x}."]
    seen = {language.pick(random.Random(seed), "ask", "terse", x="go") for seed in range(40)}
    assert seen == {"Can you go?", "go."}
    with pytest.raises(KeyError):
        language.phrasings("missing")


def test_a_max_start_bound_is_an_upper_bound():
    text = say(random.Random(3), {"min_start_time": "2026-01-30T11:00:00Z", "max_start_time": "2026-02-20T11:45:00Z"})
    lower, upper = text.index("January 30"), text.index("February 20")
    assert any(w in text[:lower] for w in ("from", "starting")), text
    assert any(w in text[lower:upper] for w in ("until", "ending")), text
