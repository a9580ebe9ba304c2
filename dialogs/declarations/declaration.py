"""Equality information: voluntary self-declaration, and "my data" to see, change, copy,
object to or delete it.

The conversation's states, each a two-step waterfall (show, then act on the reply):

    START     decide: a draft to resume, the declaration held, or the privacy notice
    RESUME    "you have unsaved answers": carry on, start again, not now
    NOTICE    the privacy notice, then one question at a time or a form per part
    QUESTION  one question (ethnic group: its group first, then the answer within it)
    DESCRIBE  the person's own words, where the answer allows them
    PART      one form card for a part's questions
    CONFIRM   check the answers, then save
    MY_DATA   what is held, and what can be done with it
    COPY      a link to download everything held (bot/data_copy.py), and a summary on request
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

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict

from botbuilder.core import MessageFactory, StatePropertyAccessor, TurnContext
from botbuilder.dialogs import (
    ComponentDialog,
    DialogTurnResult,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.prompts import Prompt, PromptOptions, PromptRecognizerResult

from bot.channel.teams import card_message, is_personal, normalise_command, person_of
from bot.core.content import Content, Texts, plain_text
from bot.core.people import PersonKey
from bot.db.models import utcnow
from bot.db.session import turn_session
from bot.declarations import (
    MAX_DESCRIPTION_CHARS,
    Answer,
    DeclarationService,
    HeldDeclaration,
    InvalidAnswers,
    Option,
    Question,
    StoredChange,
)
from bot.declarations.service import today_utc
from bot.privacy.data_copy import DataCopyLinks, summarise

REPLY = "declaration.reply"
START = "declaration.start"
RESUME = "declaration.resume"
NOTICE = "declaration.notice"
QUESTION = "declaration.question"
DESCRIBE = "declaration.describe"
PART = "declaration.part"
CONFIRM = "declaration.confirm"
MY_DATA = "declaration.my_data"
COPY = "declaration.copy"
PICK = "declaration.pick"
WITHDRAW = "declaration.withdraw"
OBJECT = "declaration.object"

# The conversation-state property the draft is kept in (see bot/runtime.py).
DRAFT_PROPERTY = "DeclarationDraft"
PART_FORM = "declaration_part"
DESCRIBE_FORM = "declaration_describe"

WITHDRAW_WORDS = frozenset(
    {"delete my data", "withdraw", "withdraw my data", "delete all my data", "delete everything"}
)
EXPORT_WORDS = frozenset({"export my data", "export", "copy of my data"})
LATER_WORDS = frozenset({"later", "finish later", "not now", "save for later", "pause"})
SKIP_WORDS = frozenset({"skip", "skip this question", "skip this part"})
BACK_WORDS = frozenset({"back", "go back", "previous"})
YES_WORDS = frozenset({"yes", "y", "ok", "okay", "confirm"})
NO_WORDS = frozenset({"no", "n"})
# Keys a card might use to name a person; none of our cards do, so any is a forgery.
PERSON_KEYS = ("pseudonym", "person", "aadObjectId", "aad_object_id")


class Draft(TypedDict):
    """Answers being given, kept apart from the dialog stack (JSON in conversation state)."""

    version: str
    purpose: str  # "new" or "change"
    mode: str  # "questions" or "form"
    answers: dict[str, dict[str, str]]  # question -> {"code": ..., "description": ...}
    only: list[str]  # the questions a change is about; empty = all of them
    position: str  # the question (or part) being asked; "" = ready to confirm
    group: str  # the answer group chosen for a grouped question, "" before
    token: str
    started: str  # ISO date


@dataclass(frozen=True, slots=True)
class Reply:
    """What the person sent: a command-like text, what they typed, or a form's values."""

    text: str
    raw: str
    form: dict[str, Any] | None


class ReplyPrompt(Prompt):
    """Waits for the next message and returns it as a `Reply`; any message will do."""

    async def on_prompt(
        self,
        turn_context: TurnContext,
        state: dict[str, object],
        options: PromptOptions,
        is_retry: bool,
    ) -> None:
        """Send the card (again, when the chat is reopened)."""
        if options.prompt is not None:
            await turn_context.send_activity(options.prompt)

    async def on_recognize(
        self, turn_context: TurnContext, state: dict[str, object], options: PromptOptions
    ) -> PromptRecognizerResult:
        """Anything the person sends is a reply; the step decides what it means."""
        activity = turn_context.activity
        value = activity.value
        form = value if isinstance(value, dict) and isinstance(value.get("form"), str) else None
        raw = (activity.text or "").strip()
        return PromptRecognizerResult(True, Reply(normalise_command(raw), raw, form))


def _choice(title: str, data: str) -> dict[str, Any]:
    return {"title": title, "data": {"choice": data}}


def _new_token() -> str:
    return secrets.token_urlsafe(12)


class DeclarationDialog(ComponentDialog):
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
        self._texts = Texts(content.data("declaration/text"))
        self._raw: dict[str, Any] = content.data("declaration/text")
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

    # ---- the shell's hook --------------------------------------------------------------------

    async def discard_draft(self, turn_context: TurnContext) -> None:
        """The person typed "cancel": throw away any unsaved answers."""
        await self._drop_draft(turn_context)

    async def _drop_draft(self, turn_context: TurnContext) -> None:
        # botbuilder's delete raises KeyError for a property that was never set.
        if await self._drafts.get(turn_context) is not None:
            await self._drafts.delete(turn_context)

    # ---- START -------------------------------------------------------------------------------

    async def start_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Refuse outside a one-to-one chat; then resume, show what is held, or begin."""
        activity = step.context.activity
        if not is_personal(activity):
            return await self._finish(step, "private_only")
        person = person_of(activity)
        if person is None:
            return await self._finish(step, "who_unknown")
        if self._claims_someone_else(step, person):
            return await self._finish(step, "someone_else")
        intent = normalise_command(activity.text)
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

    # ---- RESUME ------------------------------------------------------------------------------

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
                else self._texts("resume.intro", started=_day(started))
            ],
            note=None,
            choices=[
                _choice(self._texts("resume.carry_on"), "carry on"),
                _choice(
                    self._texts("resume.discard_change" if change else "resume.start_again"),
                    "start again",
                ),
                _choice(self._texts("resume.not_now"), "not now"),
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

    # ---- NOTICE ------------------------------------------------------------------------------

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
                _choice(texts["one_at_a_time"], "one at a time"),
                _choice(texts["forms"], "forms"),
                _choice(texts["not_now"], "not now"),
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

    # ---- QUESTION ----------------------------------------------------------------------------

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
            choices = [_choice(g.label, f"{question.id}:group:{g.id}") for g in question.groups]
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
        buttons = [_choice(self._texts("skip"), "skip")]
        if grouped and draft["group"]:
            buttons.append(_choice(self._texts("other_group"), "back"))
        elif self._previous(draft, question.id) is not None:
            buttons.append(_choice(self._texts("back"), "back"))
        buttons.append(_choice(self._texts("later"), "later"))
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

    # ---- DESCRIBE ----------------------------------------------------------------------------

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
                _choice(self._texts("describe.skip"), "skip"),
                _choice(self._texts("back"), "back"),
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
        draft["token"] = _new_token()
        return await self._advance(step, draft, question.id)

    # ---- PART (forms) ------------------------------------------------------------------------

    async def show_part_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """One card with every question of a part; blank means skipped."""
        await self._say_notice(step)
        draft = await self._draft(step)
        part = self._taxonomy.part(draft["position"]) if draft else None
        if draft is None or part is None:
            return await step.replace_dialog(START)
        prefill: dict[str, Any] = (step.options or {}).get("prefill") or {}
        texts = self._raw["part"]
        items = []
        for question in part.questions:
            answer = draft["answers"].get(question.id, {})
            grouped = {g.id: g.label for g in question.groups}
            choices = [
                {
                    "title": f"{grouped[o.group]}: {o.label}" if o.group else o.label,
                    "value": o.code,
                }
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
                        else self._texts("part.describe_label_many")
                    ),
                    "value": str(prefill.get(words_id, answer.get("description") or "")),
                    "max_length": MAX_DESCRIPTION_CHARS,
                }
            items.append(
                {
                    "id": question.id,
                    "question": question.question,
                    "why": self._texts("why", why=question.why),
                    "label": label,
                    "placeholder": texts["placeholder"],
                    "value": str(prefill.get(question.id, answer.get("code", ""))),
                    "choices": choices,
                    "describe": describe,
                }
            )
        number = [p.id for p in self._taxonomy.parts].index(part.id) + 1
        last = number == len(self._taxonomy.parts)
        buttons = [_choice(texts["skip"], "skip")]
        if number > 1:
            buttons.append(_choice(self._texts("back"), "back"))
        buttons.append(_choice(self._texts("later"), "later"))
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
        given: dict[str, Answer | None] = {}
        problems: list[str] = []
        for question in part.questions:
            code = str(form.get(question.id) or "").strip()
            words = " ".join(str(form.get(f"{question.id}_words") or "").split())
            if not code:
                given[question.id] = None
                continue
            option = question.option(code)
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
        draft["token"] = _new_token()
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

    # ---- CONFIRM -----------------------------------------------------------------------------

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
                _choice(self._texts("confirm.save"), "save"),
                _choice(self._texts("confirm.change"), "change"),
                _choice(self._texts("confirm.later"), "later"),
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

    # ---- MY_DATA -----------------------------------------------------------------------------

    async def show_data_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Exactly what is held, and everything the person can do with it."""
        await self._say_notice(step)
        held = await self._service.held(turn_session(), person=self._person(step))
        if held is None:
            return await self._finish(step, "my_data.nothing")
        status = (
            self._texts("my_data.objecting", on=_day(held.objected_on))
            if held.objected_on
            else self._texts("my_data.counted")
        )
        card = self._content.card(
            "declaration_summary",
            heading=self._texts("my_data.heading"),
            paragraphs=[self._texts("my_data.intro"), status],
            sections=[{"title": self._texts("my_data.answers"), "facts": self._facts(held)}],
            note=self._texts(
                "my_data.dates",
                declared=_day(held.declared_on),
                changed=_day(held.changed_on),
                reviewed=_day(held.reviewed_on),
            ),
            choices=[
                _choice(self._texts("my_data.change"), "change"),
                _choice(self._texts("my_data.still_right"), "still right"),
                _choice(self._texts("my_data.export"), "export"),
                _choice(self._texts("my_data.history"), "history"),
                (
                    _choice(self._texts("my_data.count_again"), "count again")
                    if held.objecting
                    else _choice(self._texts("my_data.object"), "object")
                ),
                _choice(self._texts("my_data.delete"), "delete"),
                _choice(self._texts("my_data.done"), "done"),
            ],
            buttons=[],
        )
        return await self._ask(step, card)

    async def data_action_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Change, confirm, copy, history, object / count again, delete, or done."""
        reply: Reply = step.result
        if (interrupted := await self._interrupt(step, reply, draft=None)) is not None:
            return interrupted
        person = self._person(step)
        session = turn_session()
        actions = {
            "change": ("change", "change an answer", "1"),
            "still right": ("still right", "it's all still right", "2"),
            "export": ("export", "get a copy", "copy", "3"),
            "history": ("history", "history of changes", "4"),
            "object": ("object", "stop counting my answers", "5"),
            "count again": ("count again", "count my answers again", "5"),
            "delete": ("delete", "delete all of it", "6"),
            "done": ("done", "that's all", "7", *NO_WORDS),
        }
        chosen = next((a for a, words in actions.items() if reply.text in words), None)
        held = await self._service.held(session, person=person)
        if held is None:
            return await self._finish(step, "my_data.nothing")
        if reply.text == "5":
            # Button 5 is whichever of the two the card offered.
            chosen = "count again" if held.objecting else "object"
        if chosen == "object" and held.objecting:
            return await self._finish(step, "object.already")
        if chosen == "count again" and not held.objecting:
            return await self._finish(step, "my_data.counted")
        if chosen == "change":
            return await step.replace_dialog(PICK)
        if chosen == "still right":
            await self._service.confirm_unchanged(session, person=person)
            return await self._finish(step, "my_data.confirmed")
        if chosen == "export":
            return await step.replace_dialog(COPY)
        if chosen == "history":
            await self._send_history(step, person)
            return await step.end_dialog()
        if chosen == "object":
            return await step.replace_dialog(OBJECT)
        if chosen == "count again":
            await self._service.set_objection(session, person=person, objecting=False)
            return await self._finish(step, "my_data.counted_again")
        if chosen == "delete":
            return await step.replace_dialog(WITHDRAW)
        if chosen == "done":
            return await self._finish(step, "my_data.done_message")
        return await self._again(step, "not_understood")

    # ---- COPY --------------------------------------------------------------------------------

    async def offer_copy_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """What the file holds, a link to it that works for a few minutes, and the offer of a
        short summary here. The link is made for the sender alone and names nobody."""
        await self._say_notice(step)
        person = self._person(step)
        held = await self._service.held(turn_session(), person=person)
        texts = self._raw["copy"]
        back = [{"title": texts["back"], "data": {"choice": "copy:back"}}] if held else []
        card = self._content.card(
            "event_card",
            heading=texts["heading"],
            paragraphs=[
                texts["contains"],
                self._texts("copy.link", minutes=self._copy_links.minutes),
                f"**{texts['offer']}**",
            ],
            facts=[],
            sections=[],
            inputs=[],
            links=[{"title": texts["download"], "url": self._copy_links.url(person, now=utcnow())}],
            buttons=[
                {"title": texts["summary"], "data": {"choice": "copy:summary"}},
                *back,
                {"title": texts["done"], "data": {"choice": "copy:done"}},
            ],
        )
        return await self._ask(step, card)

    async def copy_action_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """A short summary here, back to my data, a fresh link, or done."""
        reply: Reply = step.result
        if (interrupted := await self._interrupt(step, reply, draft=None)) is not None:
            return interrupted
        texts = self._raw["copy"]
        summary = ("copy:summary", "summary", "show a summary", normalise_command(texts["summary"]))
        back = ("copy:back", "back", "my data", normalise_command(texts["back"]))
        done = ("copy:done", "done", "that's all", normalise_command(texts["done"]), *NO_WORDS)
        if reply.form is None and reply.text in (*summary, *YES_WORDS):
            await self._send_summary(step, self._person(step))
            return await step.end_dialog()
        if reply.text in back:
            return await step.replace_dialog(START)
        if reply.text in EXPORT_WORDS:
            return await step.replace_dialog(COPY)
        if reply.text in done:
            return await self._finish(step, "my_data.done_message")
        return await self._again(step, "not_understood")

    # ---- PICK --------------------------------------------------------------------------------

    async def pick_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Which answer to change: every question, with the answer it has now."""
        await self._say_notice(step)
        draft = await self._draft(step)
        if draft is not None:
            answers = draft["answers"]
        else:
            held = await self._service.held(turn_session(), person=self._person(step))
            if held is None:
                return await self._finish(step, "my_data.nothing")
            answers = {
                q: {"code": a.code, "description": a.description or ""}
                for q, a in held.answers.items()
            }
        choices = [
            _choice(
                self._texts(
                    "pick.choice",
                    title=question.title,
                    answer=self._describe(question.id, answers.get(question.id)),
                ),
                f"pick:{question.id}",
            )
            for question in self._pickable(answers)
        ]
        card = self._content.card(
            "declaration_message",
            heading=self._texts("pick.heading"),
            paragraphs=[],
            note=None,
            choices=choices,
            buttons=[_choice(self._texts("pick.back"), "back")],
        )
        return await self._ask(step, card)

    async def picked_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Ask the chosen question (and any that follow from it), then confirm."""
        reply: Reply = step.result
        draft = await self._draft(step)
        if (interrupted := await self._interrupt(step, reply, draft=draft)) is not None:
            return interrupted
        if reply.text in BACK_WORDS:
            return await step.replace_dialog(CONFIRM if draft is not None else MY_DATA)
        if draft is None:
            held = await self._service.held(turn_session(), person=self._person(step))
            if held is None:
                return await self._finish(step, "my_data.nothing")
            draft = self._new_draft(purpose="change", mode="questions")
            draft["answers"] = {
                q: {"code": a.code, "description": a.description or ""}
                for q, a in held.answers.items()
            }
        pickable = self._pickable(draft["answers"])
        chosen: Question | None = None
        for number, question in enumerate(pickable, start=1):
            words = (f"pick:{question.id}", str(number), normalise_command(question.title))
            if reply.text in words:
                chosen = question
        if chosen is None:
            return await self._again(step, "not_understood")
        draft["only"] = [chosen.id, *(q.id for q in self._taxonomy.dependants(chosen.id))]
        draft["position"], draft["group"] = chosen.id, ""
        await self._drafts.set(step.context, draft)
        notice = self._bring_up_to_date(draft)
        return await self._continue(step, draft, notice=notice)

    # ---- WITHDRAW ----------------------------------------------------------------------------

    async def confirm_withdraw_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Say exactly what will go, that it can't be undone, and ask."""
        await self._say_notice(step)
        held = await self._service.held(turn_session(), person=self._person(step))
        draft = await self._draft(step)
        if held is None and draft is None:
            return await self._finish(step, "withdraw.nothing")
        paragraphs = []
        if held is not None:
            paragraphs.append(self._texts("withdraw.held", count=len(held.answers)))
        if draft is not None:
            paragraphs.append(self._texts("withdraw.draft"))
        paragraphs.append(self._texts("withdraw.final"))
        card = self._content.card(
            "declaration_message",
            heading=self._texts("withdraw.heading"),
            paragraphs=paragraphs,
            note=None,
            choices=[
                _choice(self._texts("withdraw.yes"), "withdraw:yes"),
                _choice(self._texts("withdraw.no"), "withdraw:no"),
            ],
            buttons=[],
        )
        return await self._ask(step, card)

    async def withdraw_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Delete the declaration, its history and any draft, all at once; or nothing."""
        reply: Reply = step.result
        if self._claims_someone_else(step, self._person(step)):
            return await self._again(step, "someone_else")
        yes = ("withdraw:yes", "1", "delete", normalise_command(self._texts("withdraw.yes")))
        no = ("withdraw:no", "2", "keep", normalise_command(self._texts("withdraw.no")))
        if reply.form is None and (reply.text in yes or reply.text in YES_WORDS):
            counts = await self._service.withdraw(turn_session(), person=self._person(step))
            had_draft = await self._draft(step) is not None
            await self._drop_draft(step.context)
            if counts.get("declarations") and had_draft:
                return await self._finish(step, "withdraw.done_both")
            if counts.get("declarations"):
                return await self._finish(step, "withdraw.done")
            return await self._finish(step, "withdraw.done_draft")
        if reply.text in no or reply.text in NO_WORDS or reply.text in LATER_WORDS:
            draft = await self._draft(step)
            if draft is not None and (step.options or {}).get("resume"):
                return await self._continue(step, draft, notice=self._texts("withdraw.kept"))
            return await self._finish(step, "withdraw.kept")
        return await self._again(step, "not_understood")

    # ---- OBJECT ------------------------------------------------------------------------------

    async def confirm_object_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Explain the right to object and what it does, and ask."""
        await self._say_notice(step)
        card = self._content.card(
            "declaration_message",
            heading=self._texts("object.heading"),
            paragraphs=[self._texts("object.intro"), self._texts("object.effect")],
            note=None,
            choices=[
                _choice(self._texts("object.yes"), "object:yes"),
                _choice(self._texts("object.no"), "object:no"),
            ],
            buttons=[],
        )
        return await self._ask(step, card)

    async def object_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Record the objection (kept, counted nowhere), or leave things as they are."""
        reply: Reply = step.result
        if (interrupted := await self._interrupt(step, reply, draft=None)) is not None:
            return interrupted
        yes = ("object:yes", "1", normalise_command(self._texts("object.yes")), *YES_WORDS)
        no = ("object:no", "2", normalise_command(self._texts("object.no")), *NO_WORDS)
        if reply.form is None and reply.text in yes:
            held = await self._service.held(turn_session(), person=self._person(step))
            if held is None:
                return await self._finish(step, "my_data.nothing")
            changed = await self._service.set_objection(
                turn_session(), person=self._person(step), objecting=True
            )
            return await self._finish(step, "object.done" if changed else "object.already")
        if reply.text in no:
            return await self._finish(step, "object.kept")
        return await self._again(step, "not_understood")

    # ---- cards sent without waiting ------------------------------------------------------------

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
                self._texts("summary.counted_no", on=_day(held.objected_on))
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
            paragraphs=[self._texts("summary.intro", today=_day(today_utc()))],
            sections=[
                {"title": texts["equality"], "facts": equality},
                {"title": texts["elsewhere"], "facts": elsewhere},
            ],
            note=(
                self._texts(
                    "summary.dates",
                    declared=_day(held.declared_on),
                    changed=_day(held.changed_on),
                    reviewed=_day(held.reviewed_on),
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
            facts.append({"title": _day(change.changed_on), "value": text})
        return facts or [{"title": "-", "value": self._texts("history.empty")}]

    # ---- moving through the draft -----------------------------------------------------------

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
            token=_new_token(),
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
        if draft["only"]:
            return self._texts("progress_change")
        asked = [q.id for q in self._asked(draft)]
        number = asked.index(question.id) + 1 if question.id in asked else 1
        return self._texts("progress", number=number, total=len(asked))

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

    # ---- matching what was typed or tapped ----------------------------------------------------

    def _option_choice(self, question: Question, option: Option) -> dict[str, Any]:
        return _choice(option.label, f"{question.id}:{option.code}")

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

    # ---- showing answers ----------------------------------------------------------------------

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

    # ---- plumbing -----------------------------------------------------------------------------

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
        if draft is not None and reply.text in LATER_WORDS:
            return await self._finish(step, "kept_for_later", days=self._draft_days)
        return None

    def _claims_someone_else(self, step: WaterfallStepContext, person: PersonKey) -> bool:
        """True when a card names a person other than the sender (forged or passed on)."""
        value = step.context.activity.value
        if not isinstance(value, dict):
            return False
        own = {self._service.pseudonym_of(person), person.aad_object_id.lower()}
        return any(key in value and str(value[key]).lower() not in own for key in PERSON_KEYS)

    async def _draft(self, step: WaterfallStepContext) -> Draft | None:
        draft = await self._drafts.get(step.context)
        return draft if isinstance(draft, dict) and draft.get("token") else None  # type: ignore[return-value]

    def _person(self, step: WaterfallStepContext) -> PersonKey:
        person = person_of(step.context.activity)
        if person is None:
            raise RuntimeError("a declaration step ran without a person")
        return person


def _day(value: date | None) -> str:
    """A date as people write it: 3 May 2026."""
    return f"{value.day} {value:%B %Y}" if value else ""
