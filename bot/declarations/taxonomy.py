"""The self-declaration questions and answer lists, loaded from content and checked.

The words live in `content/declarations/taxonomy.yaml`; this module turns them into typed
values and answers the questions code asks of them: is this code an answer to that question
(in this version of the lists)? Does a follow-up question apply, given the other answers?
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.content import ContentError

# The longest self-description kept (the harmonised standards' write-in boxes are shorter).
MAX_DESCRIPTION_CHARS = 200


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer as given: a taxonomy code, and the person's own words where allowed."""

    code: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Option:
    """One answer a question allows."""

    code: str
    label: str
    group: str | None = None
    describe: bool = False
    describe_prompt: str | None = None
    words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OptionGroup:
    """A heading the answers of a long list are grouped under (ethnic group)."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Condition:
    """A follow-up question applies only when another question has one of these answers."""

    question: str
    codes: frozenset[str]


@dataclass(frozen=True)
class Question:
    """One question: its words, why it is asked, and its answers ("Prefer not to say" last)."""

    id: str
    part: str
    title: str
    question: str
    why: str
    standard: str
    options: tuple[Option, ...]
    groups: tuple[OptionGroup, ...] = ()
    ask_if: Condition | None = None
    _by_code: dict[str, Option] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_code.update({option.code: option for option in self.options})

    def option(self, code: str) -> Option | None:
        """The answer with this code, or None when the code is not an answer to this question."""
        return self._by_code.get(code)

    def options_in(self, group: str) -> tuple[Option, ...]:
        """The answers under one group heading."""
        return tuple(option for option in self.options if option.group == group)

    def applies(self, codes: Mapping[str, str]) -> bool:
        """Whether the question is asked, given the other answers (question -> code)."""
        return self.ask_if is None or codes.get(self.ask_if.question) in self.ask_if.codes


@dataclass(frozen=True)
class Part:
    """A group of questions shown together on one form card."""

    id: str
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one answer cannot be kept, in words a person can act on."""

    question: str
    reason: str


@dataclass(frozen=True)
class Taxonomy:
    """Every question, in the order asked, and the version of the answer lists."""

    version: str
    prefer_not_to_say: str
    questions: tuple[Question, ...]
    parts: tuple[Part, ...]

    def question(self, question_id: str) -> Question | None:
        """The question with this id, if it exists in this version."""
        return next((q for q in self.questions if q.id == question_id), None)

    def part(self, part_id: str) -> Part | None:
        """The part with this id, if it exists."""
        return next((p for p in self.parts if p.id == part_id), None)

    def dependants(self, question_id: str) -> tuple[Question, ...]:
        """Questions asked only because of an answer to `question_id`."""
        return tuple(
            q for q in self.questions if q.ask_if is not None and q.ask_if.question == question_id
        )

    def problems(self, answers: Mapping[str, Answer]) -> list[Problem]:
        """Every reason the answers cannot be saved as they are; empty when they can."""
        codes = {question: answer.code for question, answer in answers.items()}
        found: list[Problem] = []
        for question_id, answer in answers.items():
            question = self.question(question_id)
            if question is None:
                found.append(Problem(question_id, "is not a question we ask any more"))
                continue
            option = question.option(answer.code)
            if option is None:
                found.append(Problem(question_id, "has an answer that is not on the current list"))
            elif answer.description is not None and not option.describe:
                found.append(Problem(question_id, "has a description its answer doesn't take"))
            elif answer.description is not None and len(answer.description) > MAX_DESCRIPTION_CHARS:
                found.append(
                    Problem(question_id, f"is longer than {MAX_DESCRIPTION_CHARS} characters")
                )
            if not question.applies(codes):
                found.append(Problem(question_id, "doesn't apply given the answer before it"))
        return found

    def without_inapplicable(self, answers: Mapping[str, Answer]) -> dict[str, Answer]:
        """The answers minus follow-ups whose condition no longer holds (in question order)."""
        kept: dict[str, Answer] = {}
        for question in self.questions:
            answer = answers.get(question.id)
            codes = {q: a.code for q, a in kept.items()}
            if answer is not None and question.applies(codes):
                kept[question.id] = answer
        return kept


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str | int) or not str(value).strip():
        raise ContentError(f"declaration taxonomy: {where} needs {key!r}")
    return " ".join(str(value).split())


def load_taxonomy(data: Any) -> Taxonomy:
    """Build and check the taxonomy from the parsed YAML; ContentError says what is wrong."""
    if not isinstance(data, Mapping):
        raise ContentError("declaration taxonomy: not a mapping")
    version = _text(data, "version", "the file")
    refusal = data.get("prefer_not_to_say") or {}
    prefer_not = Option(
        _text(refusal, "code", "prefer_not_to_say"), _text(refusal, "label", "prefer_not_to_say")
    )
    part_titles = {_text(p, "id", "a part"): _text(p, "title", "a part") for p in data["parts"]}
    questions = [_question(item, prefer_not, part_titles) for item in data.get("questions") or []]
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids) or not ids:
        raise ContentError("declaration taxonomy: question ids must be present and distinct")
    for question in questions:
        if (
            question.ask_if is not None
            and question.ask_if.question not in ids[: ids.index(question.id)]
        ):
            raise ContentError(
                f"declaration taxonomy: {question.id!r} depends on a question not asked before it"
            )
    parts = tuple(
        Part(pid, title, tuple(q for q in questions if q.part == pid))
        for pid, title in part_titles.items()
    )
    return Taxonomy(version, prefer_not.code, tuple(questions), parts)


def _question(item: Mapping[str, Any], prefer_not: Option, parts: Mapping[str, str]) -> Question:
    """One question, its answer groups and options (prefer-not-to-say added last), checked."""
    question_id = _text(item, "id", "a question")
    where = f"question {question_id!r}"
    groups = tuple(
        OptionGroup(_text(g, "id", where), _text(g, "label", where))
        for g in item.get("groups") or []
    )
    group_ids = {g.id for g in groups}
    options: list[Option] = []
    for raw in item.get("options") or []:
        group = raw.get("group")
        if (group is None) != (not groups) or (group is not None and group not in group_ids):
            raise ContentError(f"declaration taxonomy: {where} has an option in no group")
        options.append(
            Option(
                code=_text(raw, "code", where),
                label=_text(raw, "label", where),
                group=group,
                describe=bool(raw.get("describe")),
                describe_prompt=raw.get("describe_prompt"),
                words=tuple(str(w).lower() for w in raw.get("words") or []),
            )
        )
    options.append(prefer_not)
    codes = [o.code for o in options]
    if len(set(codes)) != len(codes):
        raise ContentError(f"declaration taxonomy: {where} repeats a code")
    condition = item.get("ask_if")
    part = _text(item, "part", where)
    if part not in parts:
        raise ContentError(f"declaration taxonomy: {where} names an unknown part {part!r}")
    return Question(
        id=question_id,
        part=part,
        title=_text(item, "title", where),
        question=_text(item, "question", where),
        why=_text(item, "why", where),
        standard=_text(item, "standard", where),
        options=tuple(options),
        groups=groups,
        ask_if=(
            Condition(str(condition["question"]), frozenset(map(str, condition["codes"])))
            if condition
            else None
        ),
    )
