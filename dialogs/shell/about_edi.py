"""About EDI: short topics on what EDI means here, the legal duties, and who does what."""

from __future__ import annotations

from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.dialogs import (
    ComponentDialog,
    DialogContext,
    DialogTurnResult,
    DialogTurnStatus,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.dialogs.choices import Choice, ChoiceRecognizers, ListStyle
from botbuilder.dialogs.prompts import ChoicePrompt, PromptOptions

from bot.channel.teams import card_message
from bot.channel.turn import Turn
from bot.core.content import Content

DONE = "done"


class AboutEdiDialog(ComponentDialog):
    """Shows a topic menu, then each chosen topic, until the person says they are done."""

    COMMAND = "about"

    def __init__(self, content: Content) -> None:
        super().__init__(AboutEdiDialog.__name__)
        self._data: dict[str, Any] = content.data("shell/about_edi")
        self._content = content
        self._topics: dict[str, dict[str, Any]] = {t["id"]: t for t in self._data["topics"]}
        self.add_dialog(ChoicePrompt("topic_prompt"))
        self.add_dialog(WaterfallDialog("about_edi_loop", [self.choose_step, self.show_step]))
        self.initial_dialog_id = "about_edi_loop"

    def _choices(self, *, exclude: str | None) -> list[Choice]:
        # The same options, in the same order, as the card's buttons: "2" means button 2.
        choices = [
            Choice(value=tid, synonyms=[topic["label"]])
            for tid, topic in self._topics.items()
            if tid != exclude
        ]
        done_words = [self._data["done_label"], "no", "nothing", "that's all", "thanks", "done"]
        return [*choices, Choice(value=DONE, synonyms=done_words)]

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """A topic or "done", typed or pressed; other typed words are left to the shell, which
        reads them and offers a way back here (nothing typed meets "didn't follow")."""
        turn = Turn.of(dialog_context.context)
        choices = self._choices(exclude=None)
        if (
            turn.text
            and not turn.value
            and not ChoiceRecognizers.recognize_choices(turn.text, choices)
        ):
            return DialogTurnResult(DialogTurnStatus.Empty)
        return await super().continue_dialog(dialog_context)

    def _buttons(self, *, exclude: str | None) -> list[dict[str, Any]]:
        buttons = [
            {"title": topic["label"], "data": {"choice": tid}}
            for tid, topic in self._topics.items()
            if tid != exclude
        ]
        if exclude is not None:
            buttons.append({"title": self._data["done_label"], "data": {"choice": DONE}})
        return buttons

    async def choose_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Ask which topic: the menu first, then after each topic "anything else?"."""
        shown = (step.options or {}).get("topic")
        if shown not in self._topics:
            shown = None
        if shown is not None:
            topic = self._topics[shown]
            card = self._content.card(
                "info",
                heading=topic["heading"],
                paragraphs=topic.get("paragraphs", []),
                bullets=topic.get("bullets", []),
                source=topic.get("source"),
                question=self._data["more"],
                buttons=self._buttons(exclude=shown),
            )
        else:
            card = self._content.card(
                "info",
                heading=self._data["prompt"],
                paragraphs=[],
                bullets=[],
                source=None,
                question=None,
                buttons=self._buttons(exclude=None),
            )
        options = PromptOptions(
            prompt=card_message(card),
            retry_prompt=MessageFactory.text(self._data["retry"]),
            choices=self._choices(exclude=shown),
            style=ListStyle.none,
        )
        return await step.prompt("topic_prompt", options)

    async def show_step(self, step: WaterfallStepContext) -> DialogTurnResult:
        """Show the chosen topic (by looping with it), or finish."""
        chosen = step.result.value
        if chosen == DONE:
            await step.context.send_activity(
                MessageFactory.text(self._content.texts("shell.goodbye_topic"))
            )
            return await step.end_dialog()
        return await step.replace_dialog("about_edi_loop", {"topic": chosen})
