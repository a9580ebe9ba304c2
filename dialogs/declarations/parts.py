"""A part of the declaration at a time: one form card per part, all of it kept or none.

The PART state's steps (registered in declare.py), for people who chose forms over one
question at a time.
"""

from __future__ import annotations

from typing import Any

from botbuilder.dialogs import (
    DialogTurnResult,
    WaterfallStepContext,
)

from bot.core.content import plain_text
from bot.declarations.taxonomy import MAX_DESCRIPTION_CHARS, Answer, Option, Part, Question
from dialogs.declarations.my_data import MyDataSteps
from dialogs.declarations.states import (
    BACK_WORDS,
    PART,
    PART_FORM,
    SKIP_WORDS,
    START,
    Draft,
    Reply,
    choice_of,
    new_token,
)


class PartSteps(MyDataSteps):
    """The PART state's steps."""

    async def show_part_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """One card with every question of a part; blank means skipped."""
        await self._say_notice(step)
        draft = await self._draft(step)
        part = self._taxonomy.part(draft["position"]) if draft else None
        if draft is None or part is None:
            return await step.replace_dialog(START)
        prefill: dict[str, Any] = (step.options or {}).get("prefill") or {}
        texts = self._raw["part"]
        items = [
            self._part_item(question, draft["answers"].get(question.id, {}), prefill)
            for question in part.questions
        ]
        number = [p.id for p in self._taxonomy.parts].index(part.id) + 1
        last = number == len(self._taxonomy.parts)
        buttons = [choice_of(texts["skip"], "skip")]
        if number > 1:
            buttons.append(choice_of(self._texts("back"), "back"))
        buttons.append(choice_of(self._texts("later"), "later"))
        card = self._content.card(
            "declaration_part",
            progress=self._texts("part_progress", number=number, total=len(self._taxonomy.parts)),
            heading=part.title,
            intro=texts["intro"],
            questions=items,
            submit_title=texts["finish"] if last else texts["next"],
            submit_data={
                "form": PART_FORM,
                "part": part.id,
                "token": draft["token"],
                "version": self._taxonomy.version,
            },
            buttons=buttons,
        )
        return await self._ask(step, card)

    async def part_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Check the whole form; keep all of it or none of it; move to the next part."""
        reply: Reply = step.result
        draft = await self._draft(step)
        part = self._taxonomy.part(draft["position"]) if draft else None
        if draft is None or part is None:
            return await step.replace_dialog(START)
        if (interrupted := await self._interrupt(step, reply, draft=draft)) is not None:
            return interrupted
        ids = [p.id for p in self._taxonomy.parts]
        if reply.text in BACK_WORDS:
            index = ids.index(part.id)
            if index == 0:
                return await self._again(step, "first_question")
            draft["position"] = ids[index - 1]
            await self._drafts.set(step.context, draft)
            return await step.replace_dialog(PART)
        if reply.text in SKIP_WORDS:
            for question in part.questions:
                self._set(draft, question.id, None)
            return await self._next_part(step, draft, part.id)
        form = reply.form
        if form is None:
            return await self._again(step, "not_understood")
        if form.get("form") != PART_FORM or form.get("token") != draft["token"]:
            return await self._again(step, "out_of_date")
        if form.get("version") != self._taxonomy.version:
            return await self._again(step, "list_changed")
        if form.get("part") != part.id:
            return await self._again(step, "out_of_date")
        given, problems = self._read_part(part, form)
        if problems:
            prefill = {key: value for key, value in form.items() if isinstance(value, str)}
            return await step.replace_dialog(
                PART,
                {
                    "notice": self._texts("part.problem", problems="; ".join(problems)),
                    "prefill": prefill,
                },
            )
        for question_id, answer in given.items():
            self._set(draft, question_id, answer)
        draft["token"] = new_token()
        return await self._next_part(step, draft, part.id)

    async def _next_part(
        self, step: WaterfallStepContext, draft: Draft, part_id: str
    ) -> DialogTurnResult:
        ids = [p.id for p in self._taxonomy.parts]
        index = ids.index(part_id)
        draft["position"] = ids[index + 1] if index + 1 < len(ids) else ""
        self._drop_inapplicable(draft)
        await self._drafts.set(step.context, draft)
        return await self._continue(step, draft)

    def _part_item(
        self, question: Question, answer: dict[str, Any], prefill: dict[str, Any]
    ) -> dict[str, Any]:
        """One question of a part's form: its choices, and a box for the person's own words
        when an answer allows them."""
        texts = self._raw["part"]
        grouped = {g.id: g.label for g in question.groups}
        choices = [
            {"title": f"{grouped[o.group]}: {o.label}" if o.group else o.label, "value": o.code}
            for o in question.options
        ]
        label = question.title
        if question.ask_if is not None:
            parent = self._taxonomy.question(question.ask_if.question)
            shown = [
                o.label
                for o in (parent.options if parent else ())
                if o.code in question.ask_if.codes
            ]
            label = f"{label}. {self._texts('part.depends', answer=' or '.join(shown))}"
        describable = [o for o in question.options if o.describe]
        describe = None
        if describable:
            words_id = f"{question.id}_words"
            describe = {
                "id": words_id,
                "label": (
                    self._texts("part.describe_label", answer=describable[0].label)
                    if len(describable) == 1
                    else self._texts("part.describe_label_many", answers=_either(describable))
                ),
                "value": str(prefill.get(words_id, answer.get("description") or "")),
                "max_length": MAX_DESCRIPTION_CHARS,
            }
        return {
            "id": question.id,
            "question": question.question,
            "why": self._texts("why", why=question.why),
            "label": label,
            "placeholder": texts["placeholder"],
            "value": str(prefill.get(question.id, answer.get("code", ""))),
            "choices": choices,
            "describe": describe,
        }

    def _read_part(
        self, part: Part, form: dict[str, Any]
    ) -> tuple[dict[str, Answer | None], list[str]]:
        """A part's answers from its form (None: left blank), and what is wrong with them."""
        given: dict[str, Answer | None] = {}
        problems: list[str] = []
        for question in part.questions:
            code = str(form.get(question.id) or "").strip()
            words = " ".join(str(form.get(f"{question.id}_words") or "").split())
            option = question.option(code) if code else None
            if words and (option is None or not option.describe):
                # Their own words beside an answer that doesn't take them: never dropped
                # silently. Say why, and show the form again with the words still there.
                describable = [o for o in question.options if o.describe]
                problems.append(
                    self._texts(
                        "part.words_not_kept",
                        question=question.title,
                        words=plain_text(words),
                        answers=_either(describable),
                    )
                )
                continue
            if not code:
                given[question.id] = None
                continue
            if option is None:
                problems.append(self._texts("part.bad_answer", question=question.title))
            elif len(words) > MAX_DESCRIPTION_CHARS:
                problems.append(
                    self._texts(
                        "part.bad_length", question=question.title, limit=MAX_DESCRIPTION_CHARS
                    )
                )
            else:
                given[question.id] = Answer(code, words if option.describe and words else None)
        return given, problems


def _either(options: list[Option]) -> str:
    """ "A", "A or B", "A, B or C": the answers that take a person's own words."""
    labels = [f'"{option.label}"' for option in options]
    return ", ".join(labels[:-1]) + f" or {labels[-1]}" if len(labels) > 1 else "".join(labels)
