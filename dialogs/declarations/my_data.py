""" "My data": what is held about the person, and changing, copying, objecting or deleting.

States (each a show-then-act waterfall, registered in declare.py): MY_DATA, COPY, PICK,
WITHDRAW, OBJECT."""

from __future__ import annotations

from botbuilder.dialogs import (
    DialogTurnResult,
    WaterfallStepContext,
)

from bot.channel.teams import normalise_command
from bot.db.models import utcnow
from bot.db.session import turn_session
from bot.declarations.taxonomy import Question
from dialogs.declarations.base import DeclarationBase
from dialogs.declarations.states import (
    BACK_WORDS,
    CONFIRM,
    COPY,
    EXPORT_WORDS,
    LATER_WORDS,
    MY_DATA,
    NO_WORDS,
    OBJECT,
    PICK,
    START,
    WITHDRAW,
    YES_WORDS,
    Reply,
    choice_of,
    day_text,
)


class MyDataSteps(DeclarationBase):
    """The my-data states' steps."""

    async def show_data_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Exactly what is held, and everything the person can do with it."""
        await self._say_notice(step)
        held = await self._service.held(turn_session(), person=self._person(step))
        if held is None:
            return await self._finish(step, "my_data.nothing")
        status = (
            self._texts("my_data.objecting", on=day_text(held.objected_on))
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
                declared=day_text(held.declared_on),
                changed=day_text(held.changed_on),
                reviewed=day_text(held.reviewed_on),
            ),
            choices=[
                choice_of(self._texts("my_data.change"), "change"),
                choice_of(self._texts("my_data.still_right"), "still right"),
                choice_of(self._texts("my_data.export"), "export"),
                choice_of(self._texts("my_data.history"), "history"),
                (
                    choice_of(self._texts("my_data.count_again"), "count again")
                    if held.objecting
                    else choice_of(self._texts("my_data.object"), "object")
                ),
                choice_of(self._texts("my_data.delete"), "delete"),
                choice_of(self._texts("my_data.done"), "done"),
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
            choice_of(
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
            buttons=[choice_of(self._texts("pick.back"), "back")],
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
                choice_of(self._texts("withdraw.yes"), "withdraw:yes"),
                choice_of(self._texts("withdraw.no"), "withdraw:no"),
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

    async def confirm_object_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Explain the right to object and what it does, and ask."""
        await self._say_notice(step)
        card = self._content.card(
            "declaration_message",
            heading=self._texts("object.heading"),
            paragraphs=[self._texts("object.intro"), self._texts("object.effect")],
            note=None,
            choices=[
                choice_of(self._texts("object.yes"), "object:yes"),
                choice_of(self._texts("object.no"), "object:no"),
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
