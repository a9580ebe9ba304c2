"""Equality information: voluntary self-declaration, and "my data" to see, change, copy,
object to or delete it.

The conversation's states, each a two-step waterfall (show, then act on the reply), all
registered in `DeclarationDialog.__init__` below; the my-data states' steps are in
my_data.py, the helpers both use in base.py, the state names and words in states.py:

    START     decide: a draft to resume, the declaration held, or the privacy notice
    RESUME    "you have unsaved answers": carry on, start again, not now
    NOTICE    the privacy notice, then one question at a time or a form per part
    QUESTION  one question (ethnic group: its group first, then the answer within it)
    DESCRIBE  the person's own words, where the answer allows them
    PART      one form card for a part's questions
    CONFIRM   check the answers, then save
    MY_DATA   what is held, and what can be done with it
    COPY      a link to download everything held (bot/privacy/data_copy.py), a summary on
              request
    PICK      which answer to change
    WITHDRAW  delete everything (confirmed)
    OBJECT    stop counting the answers (confirmed)

Answers being given live in a draft of their own (the "DeclarationDraft" conversation-state
property), not in the dialog stack, so "menu" steps aside and "declare" later resumes;
"cancel" deletes the draft (`discard_draft`). Nothing reaches the declaration tables until
the person saves.

Cards talk back as everything else does: a button sends {"choice": ...} (the same as typing
it), a form sends {"form": ..., "token": ...}. Choices for a question carry the question's id
("sex:female"), and forms carry a token that changes once a form is used, so a button or form
from an earlier card is recognised rather than applied to the wrong question.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from botbuilder.core import StatePropertyAccessor
from botbuilder.dialogs import (
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)

from bot.channel.teams import normalise_command
from bot.channel.turn import Turn
from bot.core.content import Content, Texts, plain_text
from bot.db.session import turn_session
from bot.declarations.service import DeclarationService, InvalidAnswers
from bot.declarations.taxonomy import MAX_DESCRIPTION_CHARS, Answer, Option, Question
from bot.privacy.data_copy import DataCopyLinks
from dialogs.declarations.parts import PartSteps
from dialogs.declarations.states import (
    BACK_WORDS,
    CONFIRM,
    COPY,
    DESCRIBE,
    DESCRIBE_FORM,
    EXPORT_WORDS,
    LATER_WORDS,
    MY_DATA,
    NO_WORDS,
    NOTICE,
    OBJECT,
    PART,
    PICK,
    QUESTION,
    REPLY,
    RESUME,
    SKIP_WORDS,
    START,
    WITHDRAW,
    WITHDRAW_WORDS,
    YES_WORDS,
    Draft,
    Reply,
    ReplyPrompt,
    choice_of,
    day_text,
    new_token,
)


class DeclarationDialog(PartSteps):
    """Self-declaration and "my data", for the person in a one-to-one chat."""

    COMMAND = "declare"

    def __init__(
        self,
        content: Content,
        service: DeclarationService,
        drafts: StatePropertyAccessor,
        *,
        draft_days: int = 30,
        copy_links: DataCopyLinks,
    ) -> None:
        super().__init__(DeclarationDialog.__name__)
        self._copy_links = copy_links
        self._content = content
        self._texts = Texts(content.data("declarations/words"))
        self._raw: dict[str, Any] = content.data("declarations/words")
        self._service = service
        self._taxonomy = service.taxonomy
        self._drafts = drafts
        self._draft_days = draft_days
        self.add_dialog(ReplyPrompt(REPLY))
        self.add_dialog(WaterfallDialog(START, [self.start_step]))
        self.add_dialog(WaterfallDialog(RESUME, [self.offer_resume_step, self.resume_step]))
        self.add_dialog(WaterfallDialog(NOTICE, [self.notice_step, self.mode_step]))
        self.add_dialog(WaterfallDialog(QUESTION, [self.ask_step, self.answer_step]))
        self.add_dialog(
            WaterfallDialog(DESCRIBE, [self.ask_description_step, self.description_step])
        )
        self.add_dialog(WaterfallDialog(PART, [self.show_part_step, self.part_step]))
        self.add_dialog(WaterfallDialog(CONFIRM, [self.summary_step, self.save_step]))
        self.add_dialog(WaterfallDialog(MY_DATA, [self.show_data_step, self.data_action_step]))
        self.add_dialog(WaterfallDialog(COPY, [self.offer_copy_step, self.copy_action_step]))
        self.add_dialog(WaterfallDialog(PICK, [self.pick_step, self.picked_step]))
        self.add_dialog(WaterfallDialog(WITHDRAW, [self.confirm_withdraw_step, self.withdraw_step]))
        self.add_dialog(WaterfallDialog(OBJECT, [self.confirm_object_step, self.object_step]))
        self.initial_dialog_id = START

    async def start_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Refuse outside a one-to-one chat; then resume, show what is held, or begin."""
        turn = Turn.of(step.context)
        if not turn.personal:
            return await self._finish(step, "private_only")
        person = turn.person
        if person is None:
            return await self._finish(step, "who_unknown")
        if self._claims_someone_else(step, person):
            return await self._finish(step, "someone_else")
        intent = turn.command
        if intent in WITHDRAW_WORDS:
            return await step.replace_dialog(WITHDRAW)
        if intent in EXPORT_WORDS:
            # Everything held, declared or not: events, bulletin reactions, reports, roles.
            return await step.replace_dialog(COPY)
        held = await self._service.held(turn_session(), person=person)
        if await self._draft(step) is not None:
            return await step.replace_dialog(RESUME)
        if held is not None:
            return await step.replace_dialog(MY_DATA)
        return await step.replace_dialog(NOTICE)

    async def offer_resume_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Offer to carry on with the unsaved answers."""
        await self._say_notice(step)
        draft = await self._draft(step)
        if draft is None:
            return await step.replace_dialog(START)
        change = draft["purpose"] == "change"
        started = date.fromisoformat(draft["started"])
        card = self._content.card(
            "declaration_message",
            heading=self._texts("resume.heading_change" if change else "resume.heading"),
            paragraphs=[
                self._texts("resume.intro_change")
                if change
                else self._texts("resume.intro", started=day_text(started))
            ],
            note=None,
            choices=[
                choice_of(self._texts("resume.carry_on"), "carry on"),
                choice_of(
                    self._texts("resume.discard_change" if change else "resume.start_again"),
                    "start again",
                ),
                choice_of(self._texts("resume.not_now"), "not now"),
            ],
            buttons=[],
        )
        return await self._ask(step, card)

    async def resume_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Carry on where the draft stopped, throw it away, or leave it for later."""
        reply: Reply = step.result
        draft = await self._draft(step)
        if draft is None:
            return await step.replace_dialog(START)
        if (interrupted := await self._interrupt(step, reply, draft=None)) is not None:
            return interrupted
        if reply.text in ("carry on", "1", "continue", "resume", "yes"):
            notice = self._bring_up_to_date(draft)
            await self._drafts.set(step.context, draft)
            return await self._continue(step, draft, notice=notice)
        if reply.text in ("start again", "2", "discard", "discard the change"):
            await self._drop_draft(step.context)
            return await step.replace_dialog(START)
        if reply.text in ("not now", "3", *LATER_WORDS):
            return await self._finish(step, "kept_for_later", days=self._draft_days)
        return await self._again(step, "not_understood")

    async def notice_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """The privacy notice first, then how the person would like to answer."""
        await self._say_notice(step)
        texts = self._raw["notice"]
        card = self._content.card(
            "declaration_message",
            heading=texts["heading"],
            paragraphs=[*texts["paragraphs"], f"**{texts['question']}**"],
            note=None,
            choices=[
                choice_of(texts["one_at_a_time"], "one at a time"),
                choice_of(texts["forms"], "forms"),
                choice_of(texts["not_now"], "not now"),
            ],
            buttons=[],
        )
        return await self._ask(step, card)

    async def mode_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Start a draft in the chosen way, or stop here."""
        reply: Reply = step.result
        if (interrupted := await self._interrupt(step, reply, draft=None)) is not None:
            return interrupted
        texts = self._raw["notice"]
        modes = {
            "questions": ("one at a time", "1", normalise_command(texts["one_at_a_time"])),
            "form": ("forms", "form", "2", normalise_command(texts["forms"])),
        }
        for mode, words in modes.items():
            if reply.text in words:
                draft = self._new_draft(purpose="new", mode=mode)
                await self._drafts.set(step.context, draft)
                return await self._continue(step, draft)
        if reply.text in ("not now", "3", *LATER_WORDS, *NO_WORDS):
            return await self._finish(step, "not_now")
        return await self._again(step, "not_understood")

    async def ask_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """One question, with why we ask it, its answers, Prefer not to say, skip and back."""
        await self._say_notice(step)
        draft = await self._draft(step)
        question = self._taxonomy.question(draft["position"]) if draft else None
        if draft is None or question is None:
            return await step.replace_dialog(START)
        grouped = bool(question.groups)
        choices: list[dict[str, Any]]
        if grouped and not draft["group"]:
            title = f"{question.question} {self._texts('group_first')}"
            choices = [choice_of(g.label, f"{question.id}:group:{g.id}") for g in question.groups]
            choices.append(self._option_choice(question, question.options[-1]))
        elif grouped:
            group = next(g for g in question.groups if g.id == draft["group"])
            title = self._texts("group_then", group=group.label)
            options = [*question.options_in(group.id), question.options[-1]]
            choices = [self._option_choice(question, option) for option in options]
        else:
            title = question.question
            choices = [self._option_choice(question, option) for option in question.options]
        current = draft["answers"].get(question.id)
        buttons = [choice_of(self._texts("skip"), "skip")]
        if grouped and draft["group"]:
            buttons.append(choice_of(self._texts("other_group"), "back"))
        elif self._previous(draft, question.id) is not None:
            buttons.append(choice_of(self._texts("back"), "back"))
        buttons.append(choice_of(self._texts("later"), "later"))
        card = self._content.card(
            "declaration_question",
            progress=self._progress(draft, question),
            question=title,
            why=self._texts("why", why=question.why),
            now=(
                self._texts(
                    "your_answer_now", answer=plain_text(self._describe(question.id, current))
                )
                if current
                else None
            ),
            choices=choices,
            buttons=buttons,
        )
        return await self._ask(step, card)

    async def answer_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Record the answer (or skip, or go back) and move on."""
        reply: Reply = step.result
        draft = await self._draft(step)
        question = self._taxonomy.question(draft["position"]) if draft else None
        if draft is None or question is None:
            return await step.replace_dialog(START)
        if (interrupted := await self._interrupt(step, reply, draft=draft)) is not None:
            return interrupted
        grouped = bool(question.groups)
        if reply.text in SKIP_WORDS:
            self._set(draft, question.id, None)
            return await self._advance(step, draft, question.id)
        if reply.text in BACK_WORDS:
            if grouped and draft["group"]:
                draft["group"] = ""
                await self._drafts.set(step.context, draft)
                return await step.replace_dialog(QUESTION)
            previous = self._previous(draft, question.id)
            if previous is None:
                return await self._again(step, "first_question")
            draft["position"], draft["group"] = previous, ""
            await self._drafts.set(step.context, draft)
            return await step.replace_dialog(QUESTION)
        if reply.form is not None:
            return await self._again(step, "out_of_date")
        qualified, _, rest = reply.text.partition(":")
        if rest and self._taxonomy.question(qualified) is not None and qualified != question.id:
            return await self._again(step, "earlier_question")
        # Any answer to this question, by its button, from whichever stage of it.
        option = question.option(rest) if qualified == question.id else None
        if option is None and grouped and rest.startswith("group:"):
            # A group button, from this card or the one before it: (re)choose the group.
            draft["group"] = ""
        if option is None and grouped and not draft["group"]:
            group = self._match_group(question, reply.text)
            if group is not None:
                draft["group"] = group
                await self._drafts.set(step.context, draft)
                return await step.replace_dialog(QUESTION)
            refusal = question.options[-1]
            option = self._match_option(
                question, [refusal], reply.text, first=len(question.groups) + 1
            )
        elif option is None:
            shown = (
                [*question.options_in(draft["group"]), question.options[-1]]
                if grouped
                else list(question.options)
            )
            option = self._match_option(question, shown, reply.text)
        if option is not None:
            return await self._answered(step, draft, question, option)
        if rest and qualified == question.id:
            # A code for this question that is no longer on its list: an old card, or forged.
            return await self._again(step, "list_changed")
        return await self._again(step, "not_an_answer", text=plain_text(reply.raw[:60]))

    async def _answered(
        self, step: WaterfallStepContext, draft: Draft, question: Question, option: Option
    ) -> DialogTurnResult:
        previous = draft["answers"].get(question.id, {})
        description = previous.get("description") if previous.get("code") == option.code else None
        self._set(draft, question.id, Answer(option.code, description))
        draft["group"] = ""
        if option.describe:
            await self._drafts.set(step.context, draft)
            return await step.replace_dialog(DESCRIBE)
        return await self._advance(step, draft, question.id)

    async def ask_description_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Offer a box for the person's own words (optional)."""
        await self._say_notice(step)
        draft = await self._draft(step)
        question = self._taxonomy.question(draft["position"]) if draft else None
        answer = draft["answers"].get(question.id) if draft and question else None
        option = question.option(answer["code"]) if question and answer else None
        if draft is None or question is None or answer is None or option is None:
            return await step.replace_dialog(START)
        card = self._content.card(
            "declaration_describe",
            heading=self._texts("describe.heading"),
            prompt=option.describe_prompt or question.question,
            label=self._texts("describe.label"),
            value=answer.get("description") or "",
            max_length=MAX_DESCRIPTION_CHARS,
            note=self._texts("describe.note"),
            submit_title=self._texts("describe.save"),
            submit_data={"form": DESCRIBE_FORM, "question": question.id, "token": draft["token"]},
            buttons=[
                choice_of(self._texts("describe.skip"), "skip"),
                choice_of(self._texts("back"), "back"),
            ],
        )
        return await self._ask(step, card)

    async def description_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Keep the words (typed or from the form), or none, and move on."""
        reply: Reply = step.result
        draft = await self._draft(step)
        question = self._taxonomy.question(draft["position"]) if draft else None
        if draft is None or question is None or question.id not in draft["answers"]:
            return await step.replace_dialog(START)
        if (interrupted := await self._interrupt(step, reply, draft=draft)) is not None:
            return interrupted
        if reply.text in BACK_WORDS:
            return await step.replace_dialog(QUESTION)
        if reply.form is not None:
            form = reply.form
            if (
                form.get("form") != DESCRIBE_FORM
                or form.get("token") != draft["token"]
                or form.get("question") != question.id
            ):
                return await self._again(step, "out_of_date")
            words = str(form.get("description") or "").strip()
        elif reply.text in SKIP_WORDS:
            words = ""
        else:
            words = reply.raw
        if len(words) > MAX_DESCRIPTION_CHARS:
            return await self._again(step, "too_long", limit=MAX_DESCRIPTION_CHARS)
        code = draft["answers"][question.id]["code"]
        self._set(draft, question.id, Answer(code, " ".join(words.split()) or None))
        draft["token"] = new_token()
        return await self._advance(step, draft, question.id)

    async def summary_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Every answer as it will be kept, then Save, Change or Finish later."""
        await self._say_notice(step)
        draft = await self._draft(step)
        if draft is None:
            return await step.replace_dialog(START)
        change = draft["purpose"] == "change"
        held = None
        if change:
            held = await self._service.held(turn_session(), person=self._person(step))
        facts = []
        answers = self._answers(draft)
        codes = {q: a.code for q, a in answers.items()}
        for question in self._taxonomy.questions:
            if not question.applies(codes):
                continue
            answer = answers.get(question.id)
            shown = self._describe(question.id, draft["answers"].get(question.id))
            before = held.answers.get(question.id) if held else None
            was = Answer(before.code, before.description) if before else None
            if change and was != answer:
                shown = self._texts("confirm.changed", answer=shown)
            facts.append({"title": question.title, "value": shown})
        card = self._content.card(
            "declaration_summary",
            heading=self._texts("confirm.heading_change" if change else "confirm.heading"),
            paragraphs=[self._texts("confirm.intro")],
            sections=[{"title": self._texts("my_data.answers"), "facts": facts}],
            note=None,
            choices=[],
            buttons=[
                choice_of(self._texts("confirm.save"), "save"),
                choice_of(self._texts("confirm.change"), "change"),
                choice_of(self._texts("confirm.later"), "later"),
            ],
        )
        return await self._ask(step, card)

    async def save_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Save everything in one go (all or nothing), or go back to change something."""
        reply: Reply = step.result
        draft = await self._draft(step)
        if draft is None:
            return await step.replace_dialog(START)
        if (interrupted := await self._interrupt(step, reply, draft=draft)) is not None:
            return interrupted
        if reply.form is not None:
            return await self._again(step, "out_of_date")
        if reply.text in ("change", "change an answer", "2"):
            return await step.replace_dialog(PICK)
        if reply.text in BACK_WORDS:
            last = self._previous(draft, None)
            if draft["mode"] == "form" and not draft["only"]:
                draft["position"] = self._taxonomy.parts[-1].id
            elif last is not None:
                draft["position"] = last
            await self._drafts.set(step.context, draft)
            return await self._continue(step, draft)
        if reply.text == "3":
            return await self._finish(step, "kept_for_later", days=self._draft_days)
        if reply.text not in ("save", "save my answers", "1", *YES_WORDS):
            return await self._again(step, "not_understood")
        try:
            outcome = await self._service.save(
                turn_session(), person=self._person(step), answers=self._answers(draft)
            )
        except InvalidAnswers as invalid:
            titles = []
            for problem in invalid.problems:
                question = self._taxonomy.question(problem.question)
                titles.append(question.title if question else problem.question)
                draft["answers"].pop(problem.question, None)
            first = next(
                (p.question for p in invalid.problems if self._taxonomy.question(p.question)), ""
            )
            draft["position"], draft["group"] = first, ""
            draft["only"] = [
                p.question for p in invalid.problems if self._taxonomy.question(p.question)
            ]
            draft["version"] = self._taxonomy.version
            await self._drafts.set(step.context, draft)
            notice = self._texts("confirm.problems", count=len(titles), questions=", ".join(titles))
            return await self._continue(step, draft, notice=notice)
        await self._drop_draft(step.context)
        if outcome.created:
            return await self._finish(step, "saved_new")
        if outcome.changed:
            return await self._finish(step, "saved_changed", count=len(outcome.changed))
        return await self._finish(step, "saved_unchanged")
