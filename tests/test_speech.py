"""How the offline user states values (offline/speech.py): never a form read out, dates in
words, each part with its own connector."""

from __future__ import annotations

import random
import re

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
    {"amount": 138500, "currency": "usd", "receipt_email": "dana@acme.io", "description": "Invoice 42"},
    {"summary": "Sync", "attendees": [{"email": "ana@acme.io", "displayName": "Ana Ruiz", "optional": True},
                                      {"email": "bo@acme.io"}], "visibility": "private", "sendUpdates": "all",
     "transparency": "transparent", "timeZone": "Europe/Berlin"},
    {"recipient_email": "bo@acme.io", "cc": ["ana@acme.io", "cy@acme.io"], "bcc": ["di@acme.io"],
     "extra_recipients": ["ed@acme.io"], "subject": "Lunch", "body": "See you at noon."},
    {"items": [{"price": "9f8e7d6c5b4a3210", "quantity": 2}], "trial_period_days": 14, "days_until_due": 30,
     "collection_method": "send_invoice"},
    {"project_key": "OPS", "priority": "High", "labels": ["urgent", "q3"], "view_style": "board", "color": "berry_red",
     "role": "fileOrganizer", "minAccessRole": "freeBusyReader", "orderBy": "modifiedTime desc", "status": "open"},
    {"start_index": 3, "end_index": 9, "rows": 2, "columns": 4, "width_pt": 120.0, "height_pt": 80.0,
     "image_url": "https://acme.io/logo.png", "mime_type": "application/pdf", "language": "de"},
    {"latitude": 28.71, "longitude": -120.3, "name": "HQ", "address": "1 Main St, Springfield", "emoji": "👍",
     "interval": "month", "duration": 30, "duration_unit": "minute", "buttons": [{"id": "b1", "title": "Yes"}]},
    # A text longer than the detector reads (40 characters) is still a named value.
    {"index": 14, "text": "Customer reported an issue related to the export. Needs a fix before Monday."},
]
TONES = (None, "friendly", "formal", "terse", "casual")


@pytest.mark.parametrize("args", ARGS)
@pytest.mark.parametrize("seed", range(10))
def test_stated_values_are_never_read_out_as_parameters(args, seed):
    text = "Could you do that " + say(random.Random(seed), args, TONES[seed % len(TONES)]) + "?"
    row = conversation(user(text), assistant("", call("do_it", args, {"ok": True})), assistant("Done."))
    found = [f for f in detect(dialogue_from_row(row)) if f.code == "parameter_dictation"]
    assert not found, (text, found)


def test_dates_are_said_in_words_and_windows_read_as_one():
    assert spoken_date("2026-03-05") == "March 5, 2026"
    assert spoken_date("2026-03-05T10:00:00Z") == "March 5, 2026 at 10:00 UTC"
    assert spoken_date("2026-03-05T10:00:00+02:00") == "March 5, 2026 at 10:00 +02:00"
    assert spoken_date("next week") is None and spoken_date("2026-13-45") is None
    for seed in range(10):
        text = say(random.Random(seed), {"timeMax": "2026-03-09T18:00:00Z", "timeMin": "2026-03-05T10:00:00Z"}, "terse")
        # The start first, each bound with its own word ("starting ... and until ...").
        assert re.fullmatch(r"[a-z ]+ March 5, 2026 at 10:00 UTC and [a-z ]+ March 9, 2026 at 18:00 UTC", text), text


def test_each_part_carries_its_connector():
    text = say(random.Random(2), {"summary": "Q3 planning", "priority": "Medium", "maxResults": 3})
    assert text.count(",") + text.count(" and ") >= 2
    assert any(w in text for w in ("called", "titled", "named"))
    assert "3" in text and "max results" not in text.lower()
    assert " but " not in text  # a count joins with "and": never "... and but only the first 3"
    from funcdex_assets.offline.language import phrasings

    recipient = {t.format(value="+15550100") for t in phrasings("say_recipient")}
    for seed in range(10):  # a recipient is said with words of its own ("over to ..."), never bare
        assert say(random.Random(seed), {"to": "+15550100"}) in recipient
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
    # Seen: "with drive as the spaces", "type user" beside the grantee's address, "436.68pt tall".
    assert not speakable("spaces", "drive", {"type": "string", "enum": ["drive", "appDataFolder"]})
    assert not speakable("type", "user", {"type": "string", "enum": ["user", "group", "domain", "anyone"]})
    assert not speakable("height_pt", 436.68, {"type": "number"})
    assert speakable("amount", 12.5, {"type": "number"}) and speakable("rows", 3, {"type": "integer"})


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
    from funcdex_assets.offline.language import phrasings

    low, high = "January 30, 2026 at 11:00 UTC", "February 20, 2026 at 11:45 UTC"
    for seed in range(8):
        text = say(random.Random(seed), {"min_start_time": "2026-01-30T11:00:00Z",
                                         "max_start_time": "2026-02-20T11:45:00Z"})
        assert any(t.format(when=low) in text for t in phrasings("say_when_from")), text
        assert any(t.format(when=high) in text for t in phrasings("say_when_until")), text


@pytest.mark.parametrize("tone", TONES)
def test_money_reads_as_written(tone):
    from funcdex_assets.offline.speech import money

    assert money(138500, "usd", True) == "$1,385.00" and money(138500, "eur", True) == "€1,385.00"
    assert money(5000, "jpy", True) == "¥5,000" and money(2550, "chf", True) == "25.50 CHF"
    assert money(2550, None, True) == "25.50" and money(19.5, "gbp", False) == "£19.50"
    for seed in range(8):
        text = say(random.Random(seed), {"unit_amount": 2000, "currency": "usd", "nickname": "Pro"}, tone)
        assert "$20.00" in text and "usd" not in text.lower() and "2000" not in text


def test_values_inside_lists_of_objects_are_said():
    for seed in range(12):
        tone = TONES[seed % len(TONES)]
        invite = say(random.Random(seed), {"attendees": [{"email": "ana@acme.io", "displayName": "Ana Ruiz"},
                                                          {"email": "bo@acme.io", "optional": True}]}, tone)
        assert "Ana Ruiz (ana@acme.io)" in invite and "bo@acme.io (optional)" in invite
        buttons = say(random.Random(seed), {"buttons": [{"id": "b1", "title": "Yes"}, {"id": "b2", "title": "No"}]},
                      tone)
        assert '"Yes" and "No"' in buttons and "b1" not in buttons
        items = say(random.Random(seed), {"items": [{"price": "9f8e7d6c5b4a3210", "quantity": 3}]}, tone)
        assert "3 x price 9f8e7d6c5b4a3210" in items
        # What is left of an item whose price comes from an earlier result: its quantity.
        assert "3" in say(random.Random(seed), {"items": [{"quantity": 3}]}, tone)


def test_an_event_reads_in_order_with_one_time_per_bound():
    args = {"end": {"date": "2026-03-05", "dateTime": "2026-03-05T11:00:00Z", "timeZone": "Europe/Berlin"},
            "description": "Agenda to follow.",
            "start": {"date": "2026-03-05", "dateTime": "2026-03-05T10:00:00Z", "timeZone": "Europe/Berlin"},
            "summary": "Q3 planning"}
    for seed in range(10):
        text = say(random.Random(seed), args, TONES[seed % len(TONES)])
        assert text.startswith(("called", "titled", "named")), text
        assert text.count("March 5, 2026") == 2 and text.index("10:00") < text.index("11:00"), text
        assert text.count("Berlin") == 1 and text.endswith('"Agenda to follow."'), text
        assert " and and " not in text


def test_a_field_is_named_before_its_value_at_most_once_per_request():
    from funcdex_assets.offline.speech import _names_field

    args = {"pending_invoice_items_behavior": "exclude", "collection_method": "send_invoice", "view_style": "board",
            "spaces": "drive", "corpora": "user"}
    for seed in range(40):
        text = say(random.Random(seed), args, TONES[seed % len(TONES)])
        assert sum(_names_field(text, k, v) for k, v in args.items()) <= 1, text


def test_users_answer_in_their_own_words_and_yes_reads_as_yes():
    from funcdex_assets.offline.language import phrasebook, phrasings
    from funcdex_assets.quality.detectors.destruction import _NO, _YES

    for key in ("clarify_answer", "confirm_yes", "confirm_no", "which_answer", "not_found_answer", "conflict_answer",
                "validation_error_answer"):
        entry = phrasebook()[key]
        assert set(entry) == {"any", "friendly", "formal", "terse", "casual"} - ({"any"} - set(entry)), key
        assert all(len(phrasings(key, tone)) >= 3 for tone in TONES), key
    for text in phrasings("confirm_yes"):
        assert _YES.search(text) and not _NO.search(text), text
    for text in phrasings("confirm_no"):
        assert _NO.search(text) or not _YES.search(text), text


def test_one_message_names_at_most_one_field_before_its_value_across_its_requests():
    """A request and its copies share one allowance: "with a priority of high" in the first and
    "with the description ..." in the second read together as a form."""
    from funcdex_assets.offline.speech import NamingBudget, _names_field

    args = {"summary": "Fix login", "description": "Weekly check-in on the front end", "priority": "High"}
    for seed in range(40):
        rng, budget = random.Random(seed), NamingBudget()
        texts = [say(rng, args, "formal", budget) for _ in range(3)]
        named = sum(_names_field(t, k, v) for t in texts for k, v in args.items())
        assert named <= 1, texts


def test_an_answer_says_an_api_spelled_choice_in_words():
    """Asked which role, a person answers "free busy reader", not "freeBusyReader"."""
    from funcdex_assets.offline.speech import bare

    assert bare({"role": "freeBusyReader"}) == "free busy reader"
    assert bare({"status": "IN_PROGRESS"}) == "in progress"
    assert bare({"title": "Q3 plan"}) == '"Q3 plan"'
