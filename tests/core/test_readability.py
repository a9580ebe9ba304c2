"""Plain English in every sentence staff read: short sentences, common words, no jargon.

Every text in content/*/words.yaml, the shell's text, About EDI, small talk and the menu is
split into sentences and measured: words per sentence (GOV.UK's guidance: 25 at most) and LIX
(words per sentence plus the share of words over six letters; under 40 reads easily). The
worst sentences are listed whenever the test runs (`pytest -rP tests/core/test_readability.py`)
and in any failure, so the next writer knows where to start.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.config import DEFAULT_CONTENT_DIR

MAX_WORDS = 25
MAX_MEAN_LIX = 35.0
WORST_SHOWN = 10
# Words the Plain English Campaign and GOV.UK ask writers to replace (with what to use).
JARGON = {
    "utilise": "use",
    "facilitate": "help",
    "commence": "start",
    "prior to": "before",
    "in respect of": "about",
    "in order to": "to",
    "aforementioned": "this",
    "herein": "here",
    "thereof": "of it",
    "endeavour": "try",
    "ascertain": "find out",
    "pursuant": "under",
    "leverage": "use",
    "going forward": "from now on",
}
# Not sentences people read: examples (what people type), answers' codes, templates' names.
SKIPPED_KEYS = re.compile(r"(^|\.)(examples|words|code|codes|id|command|kind)(\[|$|\.)")


@dataclass(frozen=True)
class Sentence:
    """One sentence and where it lives."""

    text: str
    where: str

    @property
    def words(self) -> list[str]:
        return re.findall(r"[A-Za-z][A-Za-z'\u2019-]*", self.text)

    @property
    def lix(self) -> float:
        words = self.words
        return len(words) + 100 * sum(len(word) > 6 for word in words) / len(words)


def _leaves(node: object, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, f"{path}[{index}]")


def _plain(text: str) -> str:
    text = re.sub(r"\{[^}]*\}", "X", text)  # a placeholder reads as one word
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link reads as its words
    return re.sub(r"\*\*|__|`|^[-*] ", "", text)


def staff_facing_files(root: Path = DEFAULT_CONTENT_DIR) -> list[Path]:
    """The files whose sentences people read in the chat."""
    names = ["*/words.yaml", "*/menu.yaml", "shell/text.yaml", "shell/about_edi.yaml"]
    names.append("shell/smalltalk.yaml")
    return sorted({path for name in names for path in root.glob(name)})


def sentences(root: Path = DEFAULT_CONTENT_DIR) -> list[Sentence]:
    """Every sentence of three words or more in the staff-facing files."""
    found = []
    for path in staff_facing_files(root):
        for key, text in _leaves(yaml.safe_load(path.read_text(encoding="utf-8"))):
            if SKIPPED_KEYS.search(key):
                continue
            for part in re.split(r"(?<=[.!?:;])\s+|\n\s*\n", _plain(text).strip()):
                sentence = Sentence(part.strip(), f"{path.relative_to(root)} {key}")
                if len(sentence.words) >= 3:
                    found.append(sentence)
    return found


def worst(found: list[Sentence], count: int = WORST_SHOWN) -> str:
    """The longest, hardest sentences, one per line."""
    ranked = sorted(found, key=lambda s: (len(s.words), s.lix), reverse=True)[:count]
    return "\n".join(
        f"{len(s.words):>3} words  LIX {s.lix:4.0f}  {s.where}: {s.text}" for s in ranked
    )


def test_there_are_sentences_to_read() -> None:
    assert len(sentences()) > 300


def test_no_sentence_is_longer_than_twenty_five_words() -> None:
    found = sentences()
    print(f"\nThe {WORST_SHOWN} longest sentences staff read:\n{worst(found)}")  # noqa: T201
    long = [s for s in found if len(s.words) > MAX_WORDS]
    assert long == [], f"{len(long)} sentences over {MAX_WORDS} words:\n{worst(long, len(long))}"


def test_sentences_read_easily_on_average() -> None:
    mean = statistics.mean(s.lix for s in sentences())
    print(f"\nmean LIX {mean:.1f} (under {MAX_MEAN_LIX} reads easily)")  # noqa: T201
    assert mean <= MAX_MEAN_LIX


def test_no_jargon_the_plain_english_guides_ask_us_to_replace() -> None:
    found = [
        f"{s.where}: {word!r} (say {plain!r}): {s.text}"
        for s in sentences()
        for word, plain in JARGON.items()
        if re.search(rf"\b{word}\b", s.text, re.IGNORECASE)
    ]
    assert found == [], "\n".join(found)
