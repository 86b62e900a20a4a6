"""Scenario dedup: embedding throughput, time and memory at 10k/100k, and precision/recall.

    python benchmarks/dedup.py [--runs 3] [--sizes 10000,100000] [--skip-scale] [--skip-quality]
                               [--embed-limit 100000] [--cache DIR]

1. Embedding throughput of the packaged all-MiniLM-L6-v2 on CPU (2,000 scenarios; median of
   --runs), and the model's load time.
2. Dedup of N synthetic scenarios (templates with varied slots, ~10% near-copies and ~5%
   paraphrases of earlier ones): lexical, semantic and combined, each in a fresh process
   (seconds; peak RSS growth over the loaded inputs, from VmHWM reset before the run). Semantic and combined
   get their embeddings from a lookup table of texts embedded beforehand, so the search is
   timed apart from the embedding (reported separately, with how many texts each method
   would embed). For N above --embed-limit the embeddings are random unit vectors with the
   same duplicate structure instead (said so in the output). Also: the same search on random
   unit vectors (every text distinct: the accepted set, and so the search, is largest).
3. Precision/recall/F1 of lexical-only, semantic-only and combined dedup on a labelled set
   built here from templates (no downloads): base scenarios, near-copies (casing, punctuation,
   filler words, a synonym, a typo, a moved clause), paraphrases (other wordings of the same
   template), and negatives that share the template but not the entities (must not be
   flagged). Threshold sweeps for both methods.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from funcdex_assets.dedup.lexical import LexicalDeduplicator
from funcdex_assets.dedup.semantic import CombinedDeduplicator, SemanticDeduplicator

# ---------------------------------------------------------------------------------------------
# Scenario templates. Each: the task (main), a trailing clause that can move to the front
# (tail), and two paraphrases with the same slots. Slots name pools below.
# ---------------------------------------------------------------------------------------------

POOLS: dict[str, list[str]] = {
    "person": ["Dana", "Omar", "Priya", "Lukas", "Mei", "Carlos", "Aisha", "Tom", "Ingrid",
               "Kenji", "Fatima", "Noah", "Sofia", "Ravi", "Elena", "Marcus", "Yuki", "Grace",
               "Hugo", "Leila"],
    "when": ["next Tuesday", "tomorrow morning", "on Friday afternoon", "before the end of the week",
             "on Monday at 10am", "later today", "on the first of next month", "this Thursday"],
    "topic": ["Q3 budget", "hiring plan", "onboarding checklist", "pricing proposal",
              "security audit", "product roadmap", "vendor contract", "marketing launch",
              "customer churn report", "release notes"],
    "project": ["Atlas", "Phoenix", "Mobile App", "Data Platform", "Checkout", "Billing",
                "Search", "Onboarding"],
    "channel": ["#engineering", "#sales", "#support", "#design", "#general", "#incidents",
                "#marketing", "#finance"],
    "customer": ["Acme Corp", "Globex", "Initech", "Umbrella Health", "Stark Logistics",
                 "Wayne Retail", "Hooli", "Soylent Foods"],
    "bug": ["login timeout", "broken CSV export", "slow dashboard", "duplicate invoices",
            "missing push notifications", "wrong currency symbol", "crash on upload",
            "expired SSL certificate"],
    "folder": ["Contracts", "Design Assets", "Board Decks", "Invoices 2024", "Recruiting",
               "Legal", "Research", "Team Photos"],
    "amount": ["$120", "$2,450", "$89.99", "$15,000", "$310", "$7,800", "$42", "$999"],
    "repo": ["payments-api", "web-frontend", "infra-terraform", "ml-pipeline", "docs-site",
             "auth-service", "mobile-ios", "data-etl"],
}


@dataclass(frozen=True)
class Template:
    main: str
    tail: str
    paraphrases: tuple[str, str]

    @property
    def slots(self) -> list[str]:
        import re
        return sorted(set(re.findall(r"{(\w+)}", self.main + " " + self.tail)))


TEMPLATES = [
    Template("Schedule a meeting with {person} to review the {topic}", "{when}",
             ("Set up time with {person} {when} so we can go over the {topic}",
              "{When}, I need a meeting with {person} about the {topic} review")),
    Template("Email {person} the latest {topic} document and ask for feedback", "{when}",
             ("Send the most recent {topic} doc to {person} by email and request comments {when}",
              "{When}, get {person} the newest {topic} file over email and ask what they think")),
    Template("Create a Jira ticket in {project} for the {bug} bug and assign it to {person}", "",
             ("Open a new {project} issue about the {bug} problem with {person} as assignee",
              "Log the {bug} defect in the {project} Jira project and give it to {person}")),
    Template("Post a summary of the {topic} in the {channel} Slack channel", "{when}",
             ("Share a short recap of the {topic} with {channel} on Slack {when}",
              "{When}, write up the {topic} highlights and send them to {channel}")),
    Template("Find all emails from {customer} about the {bug} and label them urgent", "",
             ("Search the inbox for {customer} messages mentioning the {bug} and mark them as urgent",
              "Tag every email {customer} sent regarding the {bug} with the urgent label")),
    Template("Share the {folder} folder on Google Drive with {person} as an editor", "",
             ("Give {person} edit access to the {folder} Drive folder",
              "Add {person} as an editor on the Google Drive folder called {folder}")),
    Template("Refund {amount} to {customer} for the {bug} incident in Stripe", "",
             ("Issue a {amount} Stripe refund to {customer} because of the {bug} issue",
              "Use Stripe to give {customer} back {amount} after the {bug} problem")),
    Template("Open a pull request in {repo} that fixes the {bug} and request a review from {person}", "",
             ("Create a PR on {repo} with the {bug} fix and ask {person} to review it",
              "Submit a fix for the {bug} to {repo} as a pull request, with {person} as reviewer")),
    Template("Add a task to the {project} board to update the {topic}", "{when}",
             ("Put a card on the {project} board for refreshing the {topic} {when}",
              "{When}, create a {project} board item to revise the {topic}")),
    Template("Cancel my meeting with {person} and send them a note explaining why", "{when}",
             ("Call off the meeting I have with {person} {when} and email them the reason",
              "{When}, drop my meeting with {person} and let them know why in a short message")),
    Template("Invite {person} to the {channel} channel and pin the {topic} document there", "",
             ("Add {person} to {channel} and pin the {topic} doc in the channel",
              "Get {person} into {channel}, then pin the document about the {topic}")),
    Template("Create an invoice of {amount} for {customer} and email it to their billing contact", "",
             ("Bill {customer} {amount} with a new invoice and send it to their billing email",
              "Generate a {amount} invoice for {customer} and mail it to whoever handles their billing")),
    Template("Move every file about the {topic} into the {folder} folder", "",
             ("Put all the {topic} files in the {folder} folder",
              "Relocate each document related to the {topic} to the folder named {folder}")),
    Template("Set a reminder to follow up with {customer} about the {topic}", "{when}",
             ("Remind me {when} to check back in with {customer} regarding the {topic}",
              "{When}, ping me so I follow up with {customer} on the {topic}")),
    Template("Close all {project} tickets that mention the {bug} and leave a comment linking the fix", "",
             ("Resolve every {project} issue referring to the {bug}, commenting with a link to the fix",
              "Mark the {bug} tickets in {project} as done and add a comment that links the fix")),
    Template("Book a conference room for the {topic} workshop with {person}", "{when}",
             ("Reserve a meeting room {when} for the {topic} workshop that {person} is running",
              "{When}, get a room for {person}'s {topic} workshop")),
    Template("Draft a reply to {person} confirming that the {topic} is approved", "",
             ("Write a response to {person} saying the {topic} has been approved",
              "Prepare an answer for {person} letting them know we approved the {topic}")),
    Template("Check the CI status of the main branch in {repo} and tell {channel} if it is red", "",
             ("See whether main is failing in {repo} and alert {channel} if so",
              "Look at the build on the main branch of {repo} and notify {channel} when it is broken")),
    Template("Export the {customer} account history to a spreadsheet in the {folder} folder", "",
             ("Save {customer}'s account history as a spreadsheet inside {folder}",
              "Put a spreadsheet with the full account history of {customer} in the {folder} folder")),
    Template("Ask {person} in Slack for the status of the {project} release", "{when}",
             ("Message {person} on Slack {when} to find out where the {project} release stands",
              "{When}, check with {person} over Slack on how the {project} release is going")),
    Template("Archive the {channel} messages about the {bug} into a Notion page", "",
             ("Save the {channel} discussion of the {bug} to a Notion page",
              "Copy the messages in {channel} regarding the {bug} into a new Notion page")),
    Template("Charge {customer} {amount} for the extra seats and send a receipt", "",
             ("Bill {customer} {amount} for the additional seats and email them the receipt",
              "Collect {amount} from {customer} for the added seats, then send the receipt")),
    Template("Rename the {repo} repository and update the links in the {topic} document", "",
             ("Give {repo} a new name and fix the links to it in the {topic} doc",
              "Change the name of the {repo} repo, then correct its links inside the {topic} document")),
    Template("Forward the {customer} contract to {person} and ask them to sign it", "{when}",
             ("Send {person} the {customer} contract {when} and request their signature",
              "{When}, pass the contract with {customer} on to {person} for signing")),
]

SYNONYMS = {"Schedule": "Arrange", "Email": "Mail", "Create": "Make", "Post": "Publish",
            "Find": "Locate", "Share": "Send", "Refund": "Reimburse", "Open": "Start",
            "Add": "Put", "Cancel": "Cancel", "Invite": "Bring", "Move": "Transfer",
            "Set": "Create", "Close": "Resolve", "Book": "Reserve", "Draft": "Write",
            "Check": "Verify", "Export": "Download", "Ask": "Ping", "Archive": "Save",
            "Charge": "Bill", "Rename": "Retitle", "Forward": "Send", "document": "doc",
            "meeting": "call", "ticket": "issue", "folder": "directory", "emails": "messages"}


def render(text: str, slots: dict[str, str]) -> str:
    when = slots.get("when", "")
    out = text.replace("{When}", when[:1].upper() + when[1:])
    for name, value in slots.items():
        out = out.replace("{" + name + "}", value)
    return " ".join(out.split())


def base_text(t: Template, slots: dict[str, str]) -> str:
    return render(f"{t.main} {t.tail}", slots)


def near_copy(t: Template, slots: dict[str, str], kind: str, r: random.Random) -> str:
    text = base_text(t, slots)
    if kind == "casing":
        return text.lower() if r.random() < 0.5 else text.upper()
    if kind == "punctuation":
        return r.choice([text + ".", text + "!", text.replace(" and ", ", and ") + ".", text + "?"])
    if kind == "filler":
        return r.choice([f"Please {text[0].lower()}{text[1:]}", f"{text}, please",
                         f"Can you {text[0].lower()}{text[1:]}?", f"{text} asap"])
    if kind == "synonym":
        words = text.split()
        options = [i for i, w in enumerate(words) if w in SYNONYMS and SYNONYMS[w] != w]
        i = r.choice(options) if options else 0
        words[i] = SYNONYMS.get(words[i], words[i])
        return " ".join(words)
    if kind == "typo":
        words = text.split()
        long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
        i = r.choice(long)
        w = words[i]
        k = r.randrange(1, len(w) - 2)
        words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2:]
        return " ".join(words)
    if kind == "reorder":
        if t.tail:
            tail, main = render(t.tail, slots), render(t.main, slots)
            return f"{tail[0].upper()}{tail[1:]}, {main[0].lower()}{main[1:]}"
        main = render(t.main, slots)
        if " and " in main:
            a, b = main.split(" and ", 1)
            return f"{b[0].upper()}{b[1:]} after you {a[0].lower()}{a[1:]}"
        return "Next: " + main
    raise ValueError(kind)


SLOT_KIND = {"when": "time", "amount": "amount", "person": "name", "customer": "name",
             "topic": "subject", "bug": "subject", "project": "subject", "channel": "subject",
             "folder": "subject", "repo": "subject"}

NEAR_KINDS = ["casing", "punctuation", "filler", "synonym", "typo", "reorder"]


def random_slots(t: Template, r: random.Random) -> dict[str, str]:
    return {s: r.choice(POOLS[s]) for s in t.slots}


def vary(t: Template, slots: dict[str, str], changes: int, r: random.Random) -> dict[str, str]:
    """Other entities: `changes` slots (all when larger) get a different value."""
    out = dict(slots)
    for s in r.sample(t.slots, min(changes, len(t.slots))):
        out[s] = r.choice([v for v in POOLS[s] if v != slots[s]])
    return out


@dataclass
class Item:
    key: str
    text: str
    group: str   # the base scenario a positive duplicates; its own key for non-duplicates
    kind: str    # neg-d1:<slot kind> | neg-d2 | neg-d3+ | near:<edit> | para


def labelled_set(seed: int = 11, per_template: int = 12) -> list[Item]:
    """Distinct scenarios (12 per template, each a sibling of an earlier one with 1, 2 or all
    slots changed) and, for about half of them, 1-2 near-copies and one paraphrase. Positives
    come after their base. Distinct ones are labelled by their closest sibling: neg-d1:<kind>
    (one slot differs: a time, an amount, a name, or a subject), neg-d2, neg-d3+."""
    r = random.Random(seed)
    bases: list[tuple[Template, dict[str, str], Item]] = []
    seen: set[str] = set()
    for ti, t in enumerate(TEMPLATES):
        first = random_slots(t, r)
        made = 0
        attempts = 0
        while made < per_template and attempts < 500:
            attempts += 1
            if made == 0:
                slots = first
            else:
                parent = r.choice([b[1] for b in bases if b[2].group.startswith(f"t{ti}.")])
                slots = vary(t, parent, r.choice([1, 1, 2, 99]), r)
            text = base_text(t, slots)
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            key = f"t{ti}.b{made}"
            bases.append((t, slots, Item(key, text, key, "")))
            made += 1
    # Label each distinct scenario by its closest same-template sibling: how many slots
    # differ, and for one, which kind of slot (the hardest kind when several are that close).
    for t, slots, item in bases:
        siblings = [b[1] for b in bases if b[0] is t and b[2] is not item]
        diffs = [[s for s in t.slots if sib[s] != slots[s]] for sib in siblings]
        d = min(len(x) for x in diffs)
        if d == 1:
            cats = {SLOT_KIND[x[0]] for x in diffs if len(x) == 1}
            item.kind = "neg-d1:" + next(c for c in ("time", "amount", "name", "subject") if c in cats)
        else:
            item.kind = "neg-d2" if d == 2 else "neg-d3+"
    items = [b[2] for b in bases]
    positives: list[Item] = []
    for t, slots, base in bases:
        if r.random() < 0.5:
            continue
        for j, kind in enumerate(r.sample(NEAR_KINDS, r.choice([1, 2]))):
            positives.append(Item(f"{base.key}.n{j}", near_copy(t, slots, kind, r), base.key,
                                  f"near:{kind}"))
        para = r.choice(t.paraphrases)
        positives.append(Item(f"{base.key}.p", render(para, slots), base.key, "para"))
    stream = items + positives
    r.shuffle(stream)
    # Each base before its positives (and the first position of its group).
    first_pos: dict[str, int] = {}
    for i, it in enumerate(stream):
        first_pos.setdefault(it.group, i)
    order = sorted(range(len(stream)), key=lambda i: (
        first_pos[stream[i].group] if stream[i].kind.startswith("neg") else i,
        0 if stream[i].kind.startswith("neg") else 1, i))
    return [stream[i] for i in order]


def scale_set(n: int, seed: int = 5) -> tuple[list[str], np.ndarray]:
    """N scenarios; ~10% near-copies and ~5% paraphrases of earlier ones. Returns the texts
    and, per text, the index of the text it copies (-1 for fresh ones)."""
    r = random.Random(seed)
    texts: list[str] = []
    source = np.full(n, -1, dtype=np.int64)
    made: list[tuple[Template, dict[str, str]]] = []
    extras = [" for the {p} team", " and copy {q}", " with a deadline of {d}", " (ref #{k})", ""]
    for i in range(n):
        x = r.random()
        if made and x < 0.10:
            j = r.randrange(len(made))
            t, slots = made[j]
            texts.append(near_copy(t, slots, r.choice(NEAR_KINDS), r))
            source[i] = j
        elif made and x < 0.15:
            j = r.randrange(len(made))
            t, slots = made[j]
            texts.append(render(r.choice(t.paraphrases), slots))
            source[i] = j
        else:
            t = r.choice(TEMPLATES)
            slots = random_slots(t, r)
            extra = r.choice(extras).format(p=r.choice(POOLS["project"]),
                                            q=r.choice(POOLS["person"]),
                                            d=f"{r.randint(1, 28)} {r.choice(['May', 'June', 'July'])}",
                                            k=r.randint(1000, 99999))
            text = base_text(t, slots) + extra
            texts.append(text)
            made.append((t, slots))
            source[i] = -1
    # `made` indexes fresh texts; map to text positions.
    fresh = np.flatnonzero(source == -1)
    copies = source >= 0
    source[copies] = fresh[source[copies]]
    return texts, source


def random_unit_vectors(n: int, d: int, source: np.ndarray, seed: int = 0) -> np.ndarray:
    """Random unit vectors; where source >= 0 a noisy copy of that row (cos ~0.96)."""
    rng = np.random.default_rng(seed)
    e = rng.normal(size=(n, d)).astype(np.float32)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    for i in np.flatnonzero(source >= 0):
        v = e[source[i]] + rng.normal(scale=0.3 / np.sqrt(d), size=d).astype(np.float32)
        e[i] = v / np.linalg.norm(v)
    return e


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------

class LookupEmbedder:
    """Embeddings computed beforehand, looked up by text; counts what was asked for."""

    def __init__(self, texts: list[str], emb: np.ndarray):
        self.row = {t: i for i, t in enumerate(texts)}
        self.emb = emb
        self.asked = 0

    def encode(self, texts):
        self.asked += len(texts)
        return self.emb[[self.row[t] for t in texts]]


def status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_rss() -> None:
    """Peak RSS (VmHWM) back to the current RSS (Linux >= 4.0). ru_maxrss cannot be reset,
    and a child's starts at its parent's size at fork."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def embed_texts(texts: list[str], cache: Path | None, tag: str) -> tuple[np.ndarray, float]:
    tag += "-" + hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    if cache is not None and (cache / f"{tag}.npy").exists():
        meta = json.loads((cache / f"{tag}.json").read_text())
        return np.load(cache / f"{tag}.npy"), meta["seconds"]
    from funcdex_assets.dedup.embedder import Embedder
    emb = Embedder(device="cpu").load()
    t0 = time.perf_counter()
    out = emb.encode(texts)
    seconds = time.perf_counter() - t0
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.save(cache / f"{tag}.npy", out)
        (cache / f"{tag}.json").write_text(json.dumps({"seconds": seconds, "n": len(texts)}))
    return out, seconds


# ---------------------------------------------------------------------------------------------
# 1. Embedding throughput
# ---------------------------------------------------------------------------------------------

def bench_embedding(runs: int) -> float:
    import torch

    from funcdex_assets.dedup.embedder import Embedder
    texts, _ = scale_set(2000, seed=99)
    t0 = time.perf_counter()
    emb = Embedder(device="cpu").load()
    load = time.perf_counter() - t0
    emb.encode(texts[:64])  # warm-up
    rates = []
    for i in range(runs):
        t0 = time.perf_counter()
        emb.encode(texts)
        rates.append(len(texts) / (time.perf_counter() - t0))
        print(f"  run {i + 1}: {rates[-1]:.0f} scenarios/s")
    rate = statistics.median(rates)
    print(f"embedding (all-MiniLM-L6-v2, cpu, {torch.get_num_threads()} torch threads, "
          f"batch 64): median {rate:.0f} scenarios/s on 2,000 scenarios; model load {load:.1f} s")
    return rate


# ---------------------------------------------------------------------------------------------
# 2. Time and memory at scale (each measurement in a fresh process)
# ---------------------------------------------------------------------------------------------

def worker(method: str, texts_path: str, emb_path: str) -> None:
    texts = json.loads(Path(texts_path).read_text())
    emb = np.load(emb_path) if emb_path else None
    items = [(f"s{i}", t) for i, t in enumerate(texts)]
    lookup = LookupEmbedder(texts, emb) if emb is not None else None
    base_rss = status_mb("VmRSS")
    reset_peak_rss()
    t0 = time.perf_counter()
    if method == "lexical":
        lex = LexicalDeduplicator()
        out = [lex.check(k, t) for k, t in items]
    elif method == "semantic":
        out = SemanticDeduplicator(lookup).check_many(items)
    elif method == "semantic-vectors":  # the search alone on given vectors
        out = SemanticDeduplicator(None).check_embeddings([k for k, _ in items], emb)
    elif method == "combined":
        out = CombinedDeduplicator(LexicalDeduplicator(), SemanticDeduplicator(lookup)).check_many(items)
    else:
        raise SystemExit(method)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "peak_mb": status_mb("VmHWM") - base_rss,
                      "inputs_mb": base_rss, "duplicates": sum(o is not None for o in out),
                      "embedded": lookup.asked if lookup else None}))


def run_worker(method: str, texts_path: Path, emb_path: Path | None) -> dict:
    done = subprocess.run([sys.executable, __file__, "--worker", method, str(texts_path),
                           str(emb_path or "")], check=False, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{method} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_scale(sizes: list[int], runs: int, embed_limit: int, rate: float,
                cache: Path | None) -> None:
    for n in sizes:
        texts, source = scale_set(n)
        print(f"\n{n:,} synthetic scenarios ({(source >= 0).mean():.1%} generated as copies: "
              f"near-copies and paraphrases)")
        with tempfile.TemporaryDirectory() as tmp:
            texts_path = Path(tmp) / "texts.json"
            texts_path.write_text(json.dumps(texts))
            if n <= embed_limit:
                emb, seconds = embed_texts(texts, cache, f"scale{n}")
                print(f"  embedding: {seconds:.1f} s ({n / seconds:.0f} scenarios/s), "
                      f"{emb.nbytes / 2**20:.0f} MiB of float32 embeddings")
                kind = "real embeddings"
            else:
                emb = random_unit_vectors(n, 384, source)
                seconds = None
                print(f"  embedding {n:,} would take ~{n / rate / 60:.1f} min at {rate:.0f}/s: "
                      "search measured on random unit vectors with the same copy structure")
                kind = "random vectors"
            emb_path = Path(tmp) / "emb.npy"
            np.save(emb_path, emb)
            rand_path = Path(tmp) / "rand.npy"
            np.save(rand_path, random_unit_vectors(n, 384, np.full(n, -1), seed=1))
            reps = runs if n <= 20_000 else 1
            rows = [("lexical", "lexical (exact + MinHash 0.85)", None),
                    ("semantic", f"semantic 0.95, {kind}", emb_path),
                    ("combined", f"combined, {kind}", emb_path),
                    ("semantic-vectors", "semantic search, all-distinct random vectors", rand_path)]
            for method, label, path in rows:
                results = [run_worker(method, texts_path, path) for _ in range(reps)]
                sec = statistics.median(r["seconds"] for r in results)
                peak = statistics.median(r["peak_mb"] for r in results)
                r0 = results[0]
                extra = ""
                if r0["embedded"] is not None:
                    extra = f"; embeds {r0['embedded']:,} texts (~{r0['embedded'] / rate:.0f} s at {rate:.0f}/s)"
                print(f"  {label:<48} {sec:7.2f} s  peak +{peak:6.0f} MiB  "
                      f"{r0['duplicates']:>6,} duplicates ({n / sec:,.0f}/s){extra}"
                      + (f"  [median of {reps}]" if reps > 1 else ""))


# ---------------------------------------------------------------------------------------------
# 3. Precision / recall on the labelled set
# ---------------------------------------------------------------------------------------------

def score(items: list[Item], out) -> dict:
    """Item-level: a positive is a scenario generated as a copy of an earlier one; flagging it
    is a true positive whatever it is matched with (its base may itself have been dropped as
    a duplicate of a sibling). `elsewhere` counts positives matched outside their group."""
    key_group = {it.key: it.group for it in items}
    tp = fp = fn = elsewhere = 0
    fp_kinds: dict[str, int] = {}
    for it, dup in zip(items, out):
        positive = it.group != it.key
        if dup is not None and positive:
            tp += 1
            elsewhere += key_group[dup.duplicate_of] != it.group
        elif dup is not None:
            fp += 1
            fp_kinds[it.kind] = fp_kinds.get(it.kind, 0) + 1
        elif positive:
            fn += 1
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f1": f1, "tp": tp, "fp": fp, "fn": fn, "fp_kinds": fp_kinds,
            "elsewhere": elsewhere}


def per_kind_recall(items: list[Item], out) -> dict[str, str]:
    total: dict[str, int] = {}
    hit: dict[str, int] = {}
    for it, dup in zip(items, out):
        total[it.kind] = total.get(it.kind, 0) + 1
        hit[it.kind] = hit.get(it.kind, 0) + (dup is not None)
    return {k: f"{hit[k]}/{total[k]}" for k in sorted(total)}


def bench_quality(cache: Path | None) -> None:
    items = labelled_set()
    texts = [it.text for it in items]
    n_pos = sum(it.group != it.key for it in items)
    kinds: dict[str, int] = {}
    for it in items:
        kinds[it.kind] = kinds.get(it.kind, 0) + 1
    print(f"\nlabelled set: {len(items)} scenarios from {len(TEMPLATES)} templates: "
          f"{len(items) - n_pos} distinct (bases and same-template negatives), {n_pos} duplicates")
    print("  " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    emb, _ = embed_texts(texts, cache, f"labelled{len(texts)}")
    lookup = LookupEmbedder(texts, emb)
    pairs = [(it.key, it.text) for it in items]

    def run(method: str, lex_t: float = 0.85, sem_t: float = 0.95):
        if method == "lexical":
            d = LexicalDeduplicator(lex_t)
            return [d.check(k, t) for k, t in pairs]
        if method == "semantic":
            return SemanticDeduplicator(lookup, sem_t).check_many(pairs)
        return CombinedDeduplicator(LexicalDeduplicator(lex_t),
                                    SemanticDeduplicator(lookup, sem_t)).check_many(pairs)

    print("\n  threshold sweep (P / R / F1)")
    for t in [0.5, 0.6, 0.7, 0.8, 0.85, 0.9]:
        s = score(items, run("lexical", lex_t=t))
        print(f"    lexical  jaccard >= {t:<4}  P {s['p']:.3f}  R {s['r']:.3f}  F1 {s['f1']:.3f}"
              f"  (TP {s['tp']}, FP {s['fp']}, FN {s['fn']})")
    for t in [0.90, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98]:
        s = score(items, run("semantic", sem_t=t))
        print(f"    semantic (cos+1)/2 >= {t:<4}  P {s['p']:.3f}  R {s['r']:.3f}  F1 {s['f1']:.3f}"
              f"  (TP {s['tp']}, FP {s['fp']}, FN {s['fn']}; FP by kind "
              f"{dict(sorted(s['fp_kinds'].items()))})")
    for lt, st in [(0.85, 0.93), (0.85, 0.94), (0.85, 0.95), (0.85, 0.96), (0.85, 0.97),
                   (0.7, 0.95), (0.7, 0.97)]:
        s = score(items, run("combined", lt, st))
        print(f"    combined lexical {lt} + semantic {st}  P {s['p']:.3f}  R {s['r']:.3f}  "
              f"F1 {s['f1']:.3f}  (TP {s['tp']}, FP {s['fp']}, FN {s['fn']})")
    print("    (FP = a distinct scenario flagged; positives matched to another base than their "
          "own count as found)")

    print("\n  at the defaults (lexical 0.85, semantic 0.95): flagged / total by kind "
          "(for neg-* kinds, lower is better)")
    for method in ["lexical", "semantic", "combined"]:
        out = run(method)
        s = score(items, out)
        print(f"    {method:<9} P {s['p']:.3f}  R {s['r']:.3f}  F1 {s['f1']:.3f}")
        print(f"              {per_kind_recall(items, out)}")

    # Similarity distributions: each positive with its base, each negative with its closest
    # same-template sibling that came before it.
    pos = {it.key: i for i, it in enumerate(items)}
    sims: dict[str, list[float]] = {}
    for i, it in enumerate(items):
        if it.group != it.key:
            j = pos[it.group]
        else:
            t = it.key.split(".")[0]
            earlier = [k for k in range(i) if items[k].key.split(".")[0] == t
                       and items[k].group == items[k].key]
            if not earlier:
                continue
            j = max(earlier, key=lambda k: float(emb[k] @ emb[i]))
        kind = it.kind.split(":")[0] if it.kind.startswith("near") else it.kind
        sims.setdefault(kind, []).append((float(emb[i] @ emb[j]) + 1) / 2)
    print("\n  (cos+1)/2 with the base (positives) / closest earlier same-template scenario "
          "(negatives): min / 5th pct / median / max")
    for kind in ["near", "para", "neg-d1:time", "neg-d1:amount", "neg-d1:name",
                 "neg-d1:subject", "neg-d2", "neg-d3+"]:
        v = np.array(sims.get(kind, [0.0]))
        print(f"    {kind:<12} n={len(v):<4} {v.min():.3f} / {np.percentile(v, 5):.3f} / "
              f"{np.median(v):.3f} / {v.max():.3f}   share >= 0.95: {(v >= 0.95).mean():.0%}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--embed-limit", type=int, default=100_000,
                        help="embed at most this many scenarios for a scale run; above it, "
                             "random unit vectors")
    parser.add_argument("--cache", type=Path, default=None,
                        help="keep embeddings here between runs (keyed by set and size)")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; numpy {np.__version__}")
    rate = bench_embedding(args.runs)
    if not args.skip_scale:
        bench_scale([int(s) for s in args.sizes.split(",")], args.runs, args.embed_limit, rate,
                    args.cache)
    if not args.skip_quality:
        bench_quality(args.cache)


if __name__ == "__main__":
    main()
