"""What the bot says to a sentence no command word and no waiting question claimed.

`bot/core/understanding.py` reads the sentence; this module turns the reading into a reply:
start the feature it clearly asks for, offer the best guesses as buttons (the report first when
the words sound like harm, with 999 said before anything is pressed), or answer small talk,
each with a way back to a conversation that was waiting. Nothing here keeps or logs the words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.content import Content, MenuEntry
from bot.core.understanding import REPORT, SMALL_TALK, Reading, Understanding

MENU = "menu"  # the "Show me everything" button's command (the shell's menu word)


# Matchers built in this process, by content folder and entries: building one takes a tenth
# of a second, and tests build a runtime per test.
_BUILT: dict[tuple[str, tuple[MenuEntry, ...]], Understanding] = {}


def build_understanding(content: Content, entries: Iterable[MenuEntry]) -> Understanding:
    """The matcher for the menu's entries: each one's examples, words, title and command,
    and small talk's examples (content/shell/smalltalk.yaml)."""
    key = (str(content.root.resolve()), tuple(entries))
    if key not in _BUILT:
        _BUILT[key] = _build(content, key[1])
    return _BUILT[key]


def _build(content: Content, entries: Iterable[MenuEntry]) -> Understanding:
    examples: dict[str, list[str]] = {}
    for entry in entries:
        if not entry.hidden:
            examples[entry.command] = [
                entry.command,
                entry.title,
                *entry.words,
                *entry.examples,
            ]
    emoji: dict[str, str] = {}
    for kind in content.data("shell/smalltalk")["kinds"]:
        examples[SMALL_TALK + kind["kind"]] = list(kind["examples"])
        emoji |= dict.fromkeys(kind.get("emoji", []), SMALL_TALK + kind["kind"])
    harm = content.data("shell/harm_words")["words"]
    return Understanding(examples, harm_words=harm, emoji=emoji)


def small_talk_answer(content: Content, kind: str) -> str:
    """What the bot answers to small talk of `kind`."""
    for entry in content.data("shell/smalltalk")["kinds"]:
        if entry["kind"] == kind:
            return str(entry["answer"])
    raise KeyError(kind)


def switch_card(content: Content, waiting: Waiting, to: MenuEntry) -> dict[str, Any]:
    """ "Did you mean to go to …?" mid-conversation: go there (and come back), or carry on."""
    texts, current, other = content.texts, waiting.title, f"\u201c{to.title}\u201d"
    buttons = [
        {"title": texts("shell.switch_go", other=other), "data": {"command": to.command}},
        {
            "title": texts("shell.switch_stay", activity=current),
            "data": {"command": waiting.carry_on},
        },
    ]
    return content.card(
        "info",
        heading=texts("shell.switch_heading", activity=current),
        paragraphs=[texts("shell.switch_body", activity=current, other=other)],
        bullets=[],
        source=None,
        question=None,
        buttons=buttons,
    )


@dataclass(frozen=True)
class Waiting:
    """A conversation waiting for an answer: its title and the button that goes back to it."""

    title: str
    carry_on: str


class OwnWords:
    """Cards for a sentence the shell could not place for certain."""

    def __init__(self, content: Content, understanding: Understanding) -> None:
        self._content = content
        self._texts = content.texts
        self.understanding = understanding

    def read(self, text: str, allowed: Iterable[str]) -> Reading:
        """The reading of `text` among the features in `allowed` (and small talk)."""
        talk = [label for label in self.understanding.labels if label.startswith(SMALL_TALK)]
        labels = [*allowed, *talk]
        return self.understanding.read(text, allowed=labels)

    def small_talk_answer(self, kind: str) -> str:
        """What the bot answers to small talk of `kind`."""
        return small_talk_answer(self._content, kind)

    def small_talk(self, kind: str, waiting: Waiting | None) -> dict[str, Any] | None:
        """A card answering small talk mid-conversation (None when the menu should follow)."""
        if waiting is None:
            return None
        return self._card(
            heading=small_talk_answer(self._content, kind),
            paragraphs=[self._texts("shell.small_talk_waiting", activity=waiting.title)],
            buttons=[self._carry_on(waiting)],
        )

    def guesses_card(
        self,
        reading: Reading,
        entries: Sequence[MenuEntry],
        waiting: Waiting | None,
        *,
        carry: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """ "Did you mean …?" with a button per guess, everything, and the waiting question."""
        if reading.harm:
            heading = self._texts("shell.harm_heading")
            paragraphs = [self._texts("shell.harm_body")]
        elif entries:
            heading = self._texts("shell.guess_heading")
            paragraphs = [self._texts("shell.guess_body")]
        else:
            heading = self._texts("shell.not_sure_heading")
            paragraphs = [self._texts("shell.not_sure_body")]
        # The report's button carries the words back (`carry`), so they start what happened.
        buttons = [
            {
                "title": entry.title,
                "data": {
                    "command": entry.command,
                    **((carry or {}) if entry.command == REPORT else {}),
                },
            }
            for entry in entries
        ]
        buttons.append({"title": self._texts("shell.guess_everything"), "data": {"command": MENU}})
        if waiting is not None:
            buttons.append(self._carry_on(waiting))
        return self._card(heading=heading, paragraphs=paragraphs, buttons=buttons)

    def _carry_on(self, waiting: Waiting) -> dict[str, Any]:
        title = self._texts("shell.switch_stay", activity=waiting.title)
        return {"title": title, "data": {"command": waiting.carry_on}}

    def _card(
        self, *, heading: str, paragraphs: list[str], buttons: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return self._content.card(
            "info",
            heading=heading,
            paragraphs=paragraphs,
            bullets=[],
            source=None,
            question=None,
            buttons=buttons,
        )
