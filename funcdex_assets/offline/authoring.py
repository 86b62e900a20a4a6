"""Scenario, persona and system-prompt stages of the embedded backend."""

from __future__ import annotations

import random

from faker import Faker

from funcdex_assets.backends.base import Persona
from funcdex_assets.catalog.models import Tool
from funcdex_assets.offline.language import phrasebook, pick, request_phrase
from funcdex_assets.offline.values import ValueFactory, plain_word

CLARITY_WEIGHTS = {"excellent": 0.4, "good": 0.4, "average": 0.2}


def write_scenario(chain: list[Tool], rng: random.Random, fake: Faker) -> str:
    """One sentence naming who wants what, step by step, in the chain's order."""
    phrases = [request_phrase(t) for t in chain]
    if len(phrases) == 1:
        steps = phrases[0]
    elif len(phrases) == 2:
        steps = f"{phrases[0]} and then {phrases[1]}"
    else:
        steps = ", ".join(phrases[:-1]) + f", and finally {phrases[-1]}"
    actor = rng.choice(_phrases("actors"))
    topic = rng.choice(_phrases("topics")).format(word=plain_word(fake))
    return pick(rng, "scenario", actor=actor, actor_lower=actor[0].lower() + actor[1:], steps=steps, topic=topic)


def write_persona(rng: random.Random, fake: Faker, values: ValueFactory) -> Persona:
    first, last = fake.first_name(), fake.last_name()
    company = fake.company()
    domain = "".join(ch for ch in company.split()[0].lower() if ch.isalnum()) or "example"
    role = fake.job().split(",")[0].lower()
    tone = rng.choice(_phrases("tones"))
    clarity = rng.choices(list(CLARITY_WEIGHTS), weights=list(CLARITY_WEIGHTS.values()))[0]
    timezone = values.string("timezone", {"type": "string"})
    article = "an" if role[:1] in "aeiou" else "a"
    return Persona(
        name=f"{first} {last}",
        first_name=first,
        role=f"{article} {role}",
        company=company,
        email=f"{first.lower()}.{last.lower()}@{domain}.com",
        tone=tone,
        clarity=clarity,
        timezone=timezone,
        background=pick(rng, "background", first_name=first, role=f"{article} {role}", company=company,
                        years=rng.randint(1, 12), tone=tone),
    )


def write_system_prompt(persona: Persona, toolkits: list[str], today: str, rng: random.Random) -> str:
    return pick(rng, "system_prompt", company=persona.company, toolkits=", ".join(toolkits), today=today,
                name=persona.name, role=persona.role)


def _phrases(key: str) -> list[str]:
    return list(phrasebook()[key])
