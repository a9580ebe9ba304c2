"""What both declaration conversations ("declare" and "my data") build on: the draft, the
person, asking and re-asking, and leaving cleanly."""

from __future__ import annotations

from typing import Any

from botbuilder.core import MessageFactory, StatePropertyAccessor, TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import PromptOptions

from bot.channel.teams import card_message, normalise_command
from bot.channel.turn import Turn
from bot.core.content import Content, Texts
from bot.core.people import PersonKey
from bot.db.session import turn_session
from bot.declarations.repo import StoredChange
from bot.declarations.service import DeclarationService, HeldDeclaration, today_utc
from bot.declarations.taxonomy import Answer, Option, Question, Taxonomy
from bot.privacy.data_copy import DataCopyLinks, summarise
from dialogs.declarations.states import (
    CONFIRM,
    LATER_WORDS,
    MY_DATA,
    MY_DATA_WORDS,
    PART,
    PERSON_KEYS,
    QUESTION,
    REPLY,
    WITHDRAW,
    WITHDRAW_WORDS,
    Draft,
    Reply,
    choice_of,
    day_text,
    new_token,
)


class DeclarationBase(ComponentDialog):
    """Helpers shared by the declare and my-data steps; no steps of its own."""

    _content: Content
    _texts: Texts
    _raw: dict[str, Any]
    _service: DeclarationService
    _taxonomy: Taxonomy
    _drafts: StatePropertyAccessor
    _draft_days: int
    _copy_links: DataCopyLinks

    async def discard_draft(self, turn_context: TurnContext) -> None:
        """The person typed "cancel": throw away any unsaved answers, and say so."""
        if await self._drafts.get(turn_context) is not None:
            await self._drop_draft(turn_context)
            await turn_context.send_activity(MessageFactory.text(self._texts("discarded")))

    async def _drop_draft(self, turn_context: TurnContext) -> None:
        # botbuilder's delete raises KeyError for a property that was never set.
        if await self._drafts.get(turn_context) is not None:
            await self._drafts.delete(turn_context)

    async def _send_summary(self, step: WaterfallStepContext, person: PersonKey) -> None:
        """A short summary of what the file holds: the equality answers, then a line for
        each other kind of data with how much there is. Never the pseudonym."""
        session = turn_session()
        texts = self._raw["summary"]
        held = await self._service.held(session, person=person)
        if held is None:
            equality = [{"title": texts["equality"], "value": texts["not_given"]}]
        else:
            counted = (
                self._texts("summary.counted_no", on=day_text(held.objected_on))
                if held.objected_on
                else texts["counted_yes"]
            )
            equality = [*self._facts(held), {"title": texts["counted"], "value": counted}]
        counts = summarise(await self._copy_links.held(session, person))
        elsewhere = []
        for key, words in texts["items"].items():
            fields = counts.get(key, {"count": 0})
            value = (
                str(words["value"]).format(**fields)
                if fields["count"]
                else str(words.get("none", texts["none"]))
            )
            elsewhere.append({"title": str(words["title"]), "value": value})
        card = self._content.card(
            "declaration_summary",
            heading=texts["heading"],
            paragraphs=[self._texts("summary.intro", today=day_text(today_utc()))],
            sections=[
                {"title": texts["equality"], "facts": equality},
                {"title": texts["elsewhere"], "facts": elsewhere},
            ],
            note=(
                self._texts(
                    "summary.dates",
                    declared=day_text(held.declared_on),
                    changed=day_text(held.changed_on),
                    reviewed=day_text(held.reviewed_on),
                )
                + " "
                + texts["note"]
                if held is not None
                else None
            ),
            choices=[],
            buttons=(
                [{"title": self._texts("my_data.back"), "data": {"command": "my data"}}]
                if held is not None
                else []
            ),
        )
        await step.context.send_activity(card_message(card))

    async def _send_history(self, step: WaterfallStepContext, person: PersonKey) -> None:
        history = self._history_facts(await self._service.history(turn_session(), person=person))
        card = self._content.card(
            "declaration_summary",
            heading=self._texts("history.heading"),
            paragraphs=[],
            sections=[{"title": self._texts("history.heading"), "facts": history}],
            note=self._texts("history.note"),
            choices=[],
            buttons=[{"title": self._texts("my_data.back"), "data": {"command": "my data"}}],
        )
        await step.context.send_activity(card_message(card))

    def _history_facts(self, changes: list[StoredChange]) -> list[dict[str, str]]:
        facts = []
        for change in changes:
            question = self._taxonomy.question(change.question) if change.question else None
            title = question.title if question else (change.question or "")
            values = {
                "question": title,
                "old": self._label(change.question, change.old_code) if change.old_code else "",
                "new": self._label(change.question, change.new_code) if change.new_code else "",
            }
            try:
                text = self._texts(f"history.{change.event}", **values)
            except (KeyError, ValueError):
                text = change.event
            facts.append({"title": day_text(change.changed_on), "value": text})
        return facts or [{"title": "-", "value": self._texts("history.empty")}]

    def _new_draft(self, *, purpose: str, mode: str) -> Draft:
        first = self._taxonomy.parts[0].id if mode == "form" else self._taxonomy.questions[0].id
        return Draft(
            version=self._taxonomy.version,
            purpose=purpose,
            mode=mode,
            answers={},
            only=[],
            position=first,
            group="",
            token=new_token(),
            started=today_utc().isoformat(),
        )

    async def _continue(
        self, step: WaterfallStepContext, draft: Draft, *, notice: str | None = None
    ) -> DialogTurnResult:
        options = {"notice": notice} if notice else None
        if not draft["position"]:
            return await step.replace_dialog(CONFIRM, options)
        if draft["mode"] == "form" and not draft["only"]:
            return await step.replace_dialog(PART, options)
        return await step.replace_dialog(QUESTION, options)

    async def _advance(
        self, step: WaterfallStepContext, draft: Draft, after: str
    ) -> DialogTurnResult:
        self._drop_inapplicable(draft)
        draft["position"], draft["group"] = self._next(draft, after) or "", ""
        await self._drafts.set(step.context, draft)
        return await self._continue(step, draft)

    def _asked(self, draft: Draft) -> list[Question]:
        """The questions this draft asks, given its answers so far, in order."""
        codes = {q: a["code"] for q, a in draft["answers"].items()}
        return [
            q
            for q in self._taxonomy.questions
            if (not draft["only"] or q.id in draft["only"]) and q.applies(codes)
        ]

    def _next(self, draft: Draft, after: str) -> str | None:
        ids = [q.id for q in self._taxonomy.questions]
        later = set(ids[ids.index(after) + 1 :]) if after in ids else set(ids)
        return next((q.id for q in self._asked(draft) if q.id in later), None)

    def _previous(self, draft: Draft, before: str | None) -> str | None:
        ids = [q.id for q in self._taxonomy.questions]
        earlier = set(ids[: ids.index(before)]) if before in ids else set(ids)
        candidates = [q.id for q in self._asked(draft) if q.id in earlier]
        return candidates[-1] if candidates else None

    def _progress(self, draft: Draft, question: Question) -> str:
        """ "Question 7 of 10"; a follow-up asked because of an answer keeps its question's
        number ("Question 7 of 10, a follow-up"), so the total never jumps mid-way."""
        if draft["only"]:
            return self._texts("progress_change")
        main = [q.id for q in self._taxonomy.questions if q.ask_if is None]
        ids = [q.id for q in self._taxonomy.questions]
        position = ids.index(question.id) if question.id in ids else 0
        number = max(1, sum(1 for q in main if ids.index(q) <= position))
        key = "progress" if question.ask_if is None else "progress_follow_up"
        return self._texts(key, number=number, total=len(main))

    @staticmethod
    def _set(draft: Draft, question: str, answer: Answer | None) -> None:
        """Give (or, with None, clear: a skip) the draft's answer to one question."""
        if answer is None:
            draft["answers"].pop(question, None)
        else:
            draft["answers"][question] = {
                "code": answer.code,
                "description": answer.description or "",
            }

    def _drop_inapplicable(self, draft: Draft) -> None:
        kept = self._taxonomy.without_inapplicable(self._answers(draft))
        for question in list(draft["answers"]):
            if question not in kept:
                del draft["answers"][question]

    def _answers(self, draft: Draft) -> dict[str, Answer]:
        return {
            question: Answer(answer["code"], answer.get("description") or None)
            for question, answer in draft["answers"].items()
        }

    def _bring_up_to_date(self, draft: Draft) -> str | None:
        """Drop answers no longer on the lists (the taxonomy changed since the draft began)."""
        stale = [q for q in self._taxonomy.problems(self._answers(draft))]
        for problem in stale:
            draft["answers"].pop(problem.question, None)
        draft["version"] = self._taxonomy.version
        if draft["position"] and not (
            self._taxonomy.question(draft["position"]) or self._taxonomy.part(draft["position"])
        ):
            draft["position"] = self._next(draft, "") or ""
        if not stale:
            return None
        return self._texts("resume.version_changed", count=len(stale))

    def _pickable(self, answers: dict[str, dict[str, str]]) -> list[Question]:
        codes = {q: a["code"] for q, a in answers.items()}
        return [q for q in self._taxonomy.questions if q.applies(codes)]

    def _option_choice(self, question: Question, option: Option) -> dict[str, Any]:
        return choice_of(option.label, f"{question.id}:{option.code}")

    @staticmethod
    def _match_option(
        question: Question, options: list[Option], text: str, *, first: int = 1
    ) -> Option | None:
        for number, option in enumerate(options, start=first):
            if text in (
                f"{question.id}:{option.code}",
                str(number),
                option.code,
                normalise_command(option.label),
                *option.words,
            ):
                return option
        return None

    @staticmethod
    def _match_group(question: Question, text: str) -> str | None:
        for number, group in enumerate(question.groups, start=1):
            if text in (
                f"{question.id}:group:{group.id}",
                str(number),
                normalise_command(group.label),
            ):
                return group.id
        return None

    def _label(self, question_id: str | None, code: str) -> str:
        question = self._taxonomy.question(question_id) if question_id else None
        option = question.option(code) if question else None
        return option.label if option else self._texts("older_answer", code=code)

    def _describe(self, question_id: str, answer: dict[str, str] | None) -> str:
        if not answer:
            return self._texts("confirm.not_answered")
        shown = self._label(question_id, answer["code"])
        if answer.get("description"):
            shown = self._texts("confirm.own_words", answer=shown, words=answer["description"])
        return shown

    def _facts(self, held: HeldDeclaration) -> list[dict[str, str]]:
        codes = {q: a.code for q, a in held.answers.items()}
        facts = []
        for question in self._taxonomy.questions:
            answer = held.answers.get(question.id)
            if answer is None and not question.applies(codes):
                continue
            value = (
                {"code": answer.code, "description": answer.description or ""} if answer else None
            )
            facts.append({"title": question.title, "value": self._describe(question.id, value)})
        for question_id, answer in held.answers.items():
            if self._taxonomy.question(question_id) is None:
                facts.append(
                    {"title": question_id, "value": self._texts("older_answer", code=answer.code)}
                )
        return facts

    async def _ask(self, step: WaterfallStepContext, card: dict[str, Any]) -> DialogTurnResult:
        return await step.prompt(REPLY, PromptOptions(prompt=card_message(card)))

    async def _say_notice(self, step: WaterfallStepContext) -> None:
        notice = (step.options or {}).get("notice") if isinstance(step.options, dict) else None
        if notice:
            await step.context.send_activity(MessageFactory.text(notice))

    async def _again(
        self, step: WaterfallStepContext, key: str, **fields: object
    ) -> DialogTurnResult:
        """Say why, and ask the same thing again."""
        options = step.options if isinstance(step.options, dict) else {}
        notice = self._texts(key, **fields)
        return await step.replace_dialog(step.active_dialog.id, {**options, "notice": notice})

    async def _finish(
        self, step: WaterfallStepContext, key: str, **fields: object
    ) -> DialogTurnResult:
        await step.context.send_activity(MessageFactory.text(self._texts(key, **fields)))
        return await step.end_dialog()

    async def _interrupt(
        self, step: WaterfallStepContext, reply: Reply, *, draft: Draft | None
    ) -> DialogTurnResult | None:
        """What any reply may do whatever was asked: be refused, withdraw, or pause."""
        if self._claims_someone_else(step, self._person(step)):
            return await self._again(step, "someone_else")
        if reply.text in WITHDRAW_WORDS:
            # From the middle of answering, "no" leads back to where the person was.
            return await step.replace_dialog(WITHDRAW, {"resume": draft is not None})
        if reply.text in MY_DATA_WORDS:
            # As the notice promises, at any time (unsaved answers stay in the draft).
            return await step.replace_dialog(MY_DATA)
        if draft is not None and reply.text in LATER_WORDS:
            return await self._finish(step, "kept_for_later", days=self._draft_days)
        return None

    def _claims_someone_else(self, step: WaterfallStepContext, person: PersonKey) -> bool:
        """True when a card names a person other than the sender (forged or passed on)."""
        value = Turn.of(step.context).value
        own = {self._service.pseudonym_of(person), person.aad_object_id.lower()}
        return any(key in value and str(value[key]).lower() not in own for key in PERSON_KEYS)

    async def _draft(self, step: WaterfallStepContext) -> Draft | None:
        draft = await self._drafts.get(step.context)
        return draft if isinstance(draft, dict) and draft.get("token") else None  # type: ignore[return-value]

    def _person(self, step: WaterfallStepContext) -> PersonKey:
        person = Turn.of(step.context).person
        if person is None:
            raise RuntimeError("a declaration step ran without a person")
        return person
