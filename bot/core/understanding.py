"""Reading a typed sentence: which feature it asks for, small talk, or words of harm.

Each feature's menu entry lists the sentences people type when they want it (`examples` in
content/<feature>/menu.yaml); small talk has its own (content/shell/smalltalk.yaml). A sentence
is compared with every example by TF-IDF over character n-grams (robust to typos and word
endings) and word n-grams (word order), by cosine similarity; a feature's score is its best
example's. Everything runs here, on the CPU, in about a millisecond: nothing a person types
leaves the server, and nothing they type is kept or logged by this module.

What the scores mean (measured on tests/intents/phrasings.yaml, kept apart from the examples;
`python bench/intents.py` prints the figures):
- SURE: the best feature scores at least `sure` and leads the next by `margin`: start it.
- MAYBE: any feature scoring at least `maybe` is offered as a button (the best three).
- Words of harm (content/shell/harm_words.yaml) always put the report first, whatever the
  scores, so a person describing abuse is never met with a dead end or small talk.
- A message of emoji only ("\U0001f44d", "\U0001f64f\U0001f3fd") is small talk when every one of
  them is listed under the same kind (`emoji` in smalltalk.yaml); other emoji read as nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scipy.sparse import spmatrix

SMALL_TALK = "smalltalk:"  # the prefix of small talk's labels, e.g. "smalltalk:thanks"
REPORT = "report"  # the feature words of harm always offer first
_WORDS = re.compile(r"[^\w\s']+")
_SPACES = re.compile(r"\s+")
# What decorates an emoji without changing it: variation selectors, skin tones, joiners.
_EMOJI_MARKS = re.compile("[\ufe0e\ufe0f\u200d\U0001f3fb-\U0001f3ff\\s]+")


def normalise(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces: how examples and sentences compare."""
    return _SPACES.sub(" ", _WORDS.sub(" ", text.casefold().replace("\u2019", "'"))).strip()


@dataclass(frozen=True)
class Thresholds:
    """Where a score becomes a decision (see the module's docstring)."""

    sure: float = 0.42
    margin: float = 0.06
    maybe: float = 0.2
    guesses: int = 3


@dataclass(frozen=True)
class Reading:
    """What a sentence seems to ask for.

    `chosen` is the feature (or small talk label) to act on without asking; otherwise
    `guesses` are the features to offer, best first. `harm` says the words sound like harm,
    abuse, fear or danger (then the report is first in `guesses`, or `chosen`).
    """

    chosen: str | None
    guesses: tuple[str, ...]
    harm: bool
    scores: Mapping[str, float] = field(default_factory=dict)

    @property
    def small_talk(self) -> str | None:
        """The kind of small talk ("thanks", "hello", ...) if that is what was chosen."""
        if self.chosen and self.chosen.startswith(SMALL_TALK):
            return self.chosen.removeprefix(SMALL_TALK)
        return None


class Understanding:
    """A matcher built once from labelled examples; `read` is cheap and thread-safe."""

    def __init__(
        self,
        examples: Mapping[str, Iterable[str]],
        *,
        harm_words: Sequence[str] = (),
        thresholds: Thresholds | None = None,
        emoji: Mapping[str, str] | None = None,
    ) -> None:
        """`examples` maps a label (a feature's command, or "smalltalk:<kind>") to sentences;
        `emoji` maps an emoji to the small talk label it means when sent on its own."""
        self.thresholds = thresholds or Thresholds()
        self._emoji = {_EMOJI_MARKS.sub("", mark): label for mark, label in (emoji or {}).items()}
        self._labels: list[str] = []
        texts: list[str] = []
        for label, sentences in examples.items():
            for sentence in sentences:
                cleaned = normalise(sentence)
                if cleaned:
                    self._labels.append(label)
                    texts.append(cleaned)
        if not texts:
            raise ValueError("no examples to learn from")
        self.labels = tuple(dict.fromkeys(self._labels))
        self._harm = _harm_pattern(harm_words)
        self._vectoriser = _vectoriser()
        self._matrix: spmatrix = self._vectoriser.fit_transform(texts)

    def read(self, text: str, *, allowed: Iterable[str] | None = None) -> Reading:
        """What `text` asks for, among the labels in `allowed` (all when None)."""
        cleaned = normalise(text)
        harm = bool(self._harm and self._harm.search(cleaned))
        if not cleaned:
            talk = self._emoji_only(text)
            return Reading(talk, (talk,) if talk else (), harm)
        scores = self.scores(cleaned, allowed=allowed)
        ranked = sorted(scores, key=scores.__getitem__, reverse=True)
        return self._decide(ranked, scores, harm)

    def _emoji_only(self, text: str) -> str | None:
        """The small talk label of a message of emoji that all mean the same kind."""
        marks = _EMOJI_MARKS.sub("", text)
        labels = {self._emoji.get(mark) for mark in marks}
        return labels.pop() if len(labels) == 1 and marks else None

    def scores(self, cleaned: str, *, allowed: Iterable[str] | None = None) -> dict[str, float]:
        """Each label's best similarity to the (normalised) sentence."""
        keep = set(self.labels if allowed is None else allowed)
        similarity = (self._matrix @ self._vectoriser.transform([cleaned]).T).toarray().ravel()
        best: dict[str, float] = {}
        for label, score in zip(self._labels, similarity, strict=True):
            if label in keep and score > best.get(label, -1.0):
                best[label] = float(score)
        return best

    def _decide(self, ranked: list[str], scores: Mapping[str, float], harm: bool) -> Reading:
        limits = self.thresholds
        top = ranked[0] if ranked else None
        if harm:
            # Words of harm never end in small talk or a dead end: the report comes first.
            features = [label for label in ranked if not label.startswith(SMALL_TALK)]
            order = [REPORT, *(label for label in features if label != REPORT)]
            chosen = REPORT if top == REPORT and scores[REPORT] >= limits.maybe else None
            return Reading(chosen, tuple(order[: limits.guesses]), True, scores)
        if top is None:
            return Reading(None, (), False, scores)
        if _clear_winner(top, ranked, scores, limits):
            return Reading(top, (top,), False, scores)
        guesses = tuple(
            label
            for label in ranked[: limits.guesses]
            if scores[label] >= limits.maybe and not label.startswith(SMALL_TALK)
        )
        return Reading(None, guesses, False, scores)


def _clear_winner(
    top: str, ranked: list[str], scores: Mapping[str, float], limits: Thresholds
) -> bool:
    """Whether `top` scores `sure` and leads by `margin`. Small talk's kinds ("thanks", "bye")
    do not compete with one another, only with the features, and a feature with them all."""
    if scores[top] < limits.sure:
        return False
    talk = top.startswith(SMALL_TALK)
    rivals = [scores[label] for label in ranked[1:] if not (talk and label.startswith(SMALL_TALK))]
    return scores[top] - max(rivals, default=0.0) >= limits.margin


def _vectoriser() -> Any:
    """Character n-grams within words (typos, endings) beside word unigrams and bigrams."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "characters",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b\w[\w']*\b",
                ),
            ),
        ],
        transformer_weights={"characters": 0.5**0.5, "words": 0.5**0.5},
    )


def _harm_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern matching any of the harm words at the start of a word (stems allowed)."""
    stems = [re.escape(normalise(word)) for word in words if normalise(word)]
    if not stems:
        return None
    return re.compile(r"\b(?:" + "|".join(sorted(stems, key=len, reverse=True)) + ")")
