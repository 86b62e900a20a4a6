"""User turns of the embedded generator vary: no phrasebook frame, and no 3-word opening, is a
large share of them (issue: language a person would write). Measured on conversations written
for several bundles without Dagster, with the same measure `funcdex check` reports."""

from __future__ import annotations


import pytest
from offline_frames import write_bundle

from funcdex_assets.dml.parser import parse_dml
from funcdex_assets.export.trl import to_messages
from funcdex_assets.offline.language import phrasebook
from funcdex_assets.quality.dialogue import dialogue_from_messages
from funcdex_assets.quality.phrase_frames import frames_from_phrasebook
from funcdex_assets.quality.shape import conversation_shape, shape_report

BUNDLES = ("gmail_googlecalendar", "jira", "stripe", "whatsapp_todoist", "googledrive_googledocs")
PER_BUNDLE = 24
# The dataset goal is 1% of user turns (`funcdex check` on 15 bundles x 50); this sample holds
# about a sixth as many turns, so a frame at 1% can read up to about 1.6% here.
FRAME_LIMIT = 0.02
OPENING_LIMIT = 0.03


@pytest.fixture(scope="module")
def report():
    frames = frames_from_phrasebook(phrasebook())
    shapes = []
    for bundle in BUNDLES:
        conversations = write_bundle(bundle, 8 * PER_BUNDLE, PER_BUNDLE).conversations
        for row in conversations.iter_rows(named=True):
            messages = to_messages(list(parse_dml(row["dml"]).turns), "c", system_prompt="Today.")
            shapes.append(conversation_shape(dialogue_from_messages(messages), frames))
    return shape_report(shapes, frames=frames)


def test_no_phrasebook_frame_is_a_large_share_of_user_turns(report) -> None:
    f = report.figures
    assert f["user_turns"] >= 800, f["user_turns"]
    top = report.top_frames[:5]
    assert f["frame_max_share"] <= FRAME_LIMIT, [(u.id, u.template, u.share) for u in top]


def test_no_opening_is_a_large_share_of_user_turns(report) -> None:
    # A measure that needs no templates: splitting templates into pieces cannot pass it.
    f = report.figures
    assert f["opening_top_share"] <= OPENING_LIMIT, (f["opening_top"], f["opening_top_share"])
