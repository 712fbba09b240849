"""Deterministic story text for the benchmark: Markdown bodies of about 1,000 words, titles,
tags and names, all drawn from random.Random(seed). No Django here (the harness imports it too).
"""

from __future__ import annotations

import random


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


WORDS = _words(
    "the of and to in is that for it as with was on be by this are from at or an have not "
    "but we they which one all their there been has more when will would about if so can what "
    "into some time could these other than then them only new its also after first two way "
    "even most because any those over such through where much before must through back years "
    "work system people should well well data still being here might good each place right "
    "during without another between under while state never same different small large world "
    "story writer reader page light river stone garden window morning evening winter summer "
    "signal network server request query index cache memory thread process worker latency "
    "design pattern module function object record table column value number language paper "
    "field city mountain forest ocean harbour market bridge tower village letter journey "
    "music colour silence voice memory question answer reason method detail example notice "
    "careful quiet bright honest simple gentle rapid distant modern ancient curious patient"
)
TOPICS = _words(
    "python django postgres design writing travel music science history cooking "
    "photography startups security testing performance databases javascript css "
    "accessibility typography cities climate books film poetry health running "
    "gardening economics education philosophy mathematics astronomy linux networking "
    "product career remote-work open-source devops rust golang"
)
FIRST_NAMES = _words("Ada Alan Grace Linus Barbara Ken Dennis Margaret Edsger Frances John Radia Tim Hedy")
LAST_NAMES = _words("Lovelace Turing Hopper Torvalds Liskov Thompson Ritchie Hamilton Dijkstra Allen Backus")
CODE_SNIPPETS = (
    (
        "python",
        "def fib(n: int) -> int:\n    a, b = 0, 1\n    for _ in range(n):\n"
        "        a, b = b, a + b\n    return a",
    ),
    ("sql", "SELECT author_id, count(*)\nFROM posts_post\nWHERE status = 'published'\nGROUP BY author_id;"),
    (
        "javascript",
        "const total = items\n  .filter((item) => item.ready)\n  .reduce((sum, item) => sum + item.size, 0);",
    ),
)


def sentence(rng: random.Random, low: int = 8, high: int = 20) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    # Some inline Markdown, as real stories have.
    roll = rng.random()
    if roll < 0.15:
        i = rng.randrange(len(words))
        words[i] = f"**{words[i]}**"
    elif roll < 0.25:
        i = rng.randrange(len(words))
        words[i] = f"*{words[i]}*"
    elif roll < 0.3:
        i = rng.randrange(len(words))
        words[i] = f"[{words[i]}](https://example.com/{words[i]})"
    elif roll < 0.35:
        i = rng.randrange(len(words))
        words[i] = f"`{words[i]}`"
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(4, 7)))


def body(rng: random.Random, words: int = 1000) -> str:
    """A Markdown story of about `words` words: paragraphs, a few headings, a list, a quote
    and, in one story of three, a fenced code block."""
    blocks: list[str] = []
    count = 0
    with_code = rng.random() < 1 / 3
    while count < words:
        block = paragraph(rng)
        blocks.append(block)
        count += len(block.split())
        if len(blocks) % 4 == 0:
            blocks.append("## " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 5))).capitalize())
        if len(blocks) == 6:
            blocks.append("\n".join(f"- {sentence(rng, 4, 9)}" for _ in range(4)))
        if len(blocks) == 9:
            blocks.append("> " + sentence(rng))
        if len(blocks) == 11 and with_code:
            language, code = rng.choice(CODE_SNIPPETS)
            blocks.append(f"```{language}\n{code}\n```")
    return "\n\n".join(blocks) + "\n"


def title(rng: random.Random, index: int) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 6)))
    return f"{words.capitalize()} {index}"


def tags(rng: random.Random, count: int = 3) -> list[str]:
    return rng.sample(TOPICS, count)


def full_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
