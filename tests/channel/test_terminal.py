"""`edi-bot chat`: cards as readable text, buttons by number, inputs asked for, state kept.

Renderer and input tests use realistic card JSON and a stand-in bot that records what a
button press sends. Session tests drive `run_chat` with scripted typing against the real
bot on both databases and read the transcript a person would see.
"""

from __future__ import annotations

import io
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment, CardAction, SuggestedActions
from sqlalchemy import select

from bot.channel.card_text import ADAPTIVE, HERO, TEXT_WIDTH, CardTextRenderer, ask_input
from bot.channel.terminal import PROMPT, TerminalChat, _loop, run_chat, safe_url
from bot.config import Settings
from bot.db.engine import create_engine
from bot.db.models import BotStateDocument

# ---- helpers ------------------------------------------------------------------------------


class Script:
    """Scripted typing: answers each prompt in turn and echoes it as a terminal would.

    An answer that is an exception (class or instance) is raised instead; when the answers
    run out, EOFError (Ctrl-D) is raised.
    """

    def __init__(self, out: io.StringIO, *answers: Any) -> None:
        self.out = out
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        self.out.write(prompt)
        if not self.answers:
            self.out.write("^D\n")
            raise EOFError
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException) or (
            isinstance(answer, type) and issubclass(answer, BaseException)
        ):
            self.out.write("^C\n")
            raise answer
        self.out.write(f"{answer}\n")
        return str(answer)


def after(transcript: str, typed: str) -> str:
    """What appeared after the person typed `typed` at the prompt, up to the next prompt."""
    marker = f"{PROMPT}{typed}\n"
    assert marker in transcript, f"never typed {typed!r}:\n{transcript}"
    return transcript.split(marker, 1)[1].split(PROMPT, 1)[0]


async def chat_session(settings: Settings, user: str, *typed: Any) -> tuple[int, str]:
    """Run `edi-bot chat` as `user`, typing `typed`; the exit code and the transcript."""
    out = io.StringIO()
    code = await run_chat(settings, user=user, ask=Script(out, *typed), out=out)
    return code, out.getvalue()


def render(card: dict[str, Any], first_number: int = 1) -> tuple[list[str], list[Any]]:
    rendered = CardTextRenderer().render_card(card, first_number)
    return rendered.lines, rendered.actions


def card_message(card: dict[str, Any]) -> Activity:
    return Activity(
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=ADAPTIVE, content=card)],
    )


class StandInBot:
    """Records each activity a press sends; replies with the card it is given, if any."""

    def __init__(self, reply: Activity | None = None) -> None:
        self.received: list[Activity] = []
        self.reply = reply
        self.invoke_response: InvokeResponse | None = None

    async def on_turn(self, context: TurnContext) -> None:
        self.received.append(context.activity)
        if context.activity.type == ActivityTypes.invoke and self.invoke_response is not None:
            await context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=self.invoke_response)
            )
        elif self.reply is not None:
            await context.send_activity(self.reply)

    async def on_error(self, context: TurnContext, error: Exception) -> None:
        raise error


async def chat_showing(
    card: dict[str, Any], user: str = "Sam Patel"
) -> tuple[TerminalChat, StandInBot, io.StringIO]:
    """A chat whose latest message is `card`, talking to a stand-in bot; and its screen."""
    out = io.StringIO()
    bot = StandInBot(reply=card_message(card))
    chat = TerminalChat(
        user=user, tenant_id="tenant-1", on_turn=bot.on_turn, on_error=bot.on_error, out=out
    )
    await chat.say("show me")
    bot.received.clear()
    bot.reply = None
    out.seek(0)
    out.truncate()
    return chat, bot, out


FORM: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "Book a session", "size": "Large", "weight": "Bolder"},
        {"type": "Input.Text", "id": "name", "label": "Your name"},
        {
            "type": "Input.ChoiceSet",
            "id": "site",
            "label": "Site",
            "choices": [
                {"title": "County Hall", "value": "ch"},
                {"title": "Coalville", "value": "cv"},
                {"title": "Online", "value": "on"},
            ],
        },
        {
            "type": "Input.ChoiceSet",
            "id": "needs",
            "label": "Access needs",
            "isMultiSelect": True,
            "choices": [
                {"title": "Step-free access", "value": "step"},
                {"title": "Hearing loop", "value": "loop"},
                {"title": "BSL interpreter", "value": "bsl"},
            ],
        },
        {"type": "Input.Toggle", "id": "remind", "title": "Send me a reminder"},
        {"type": "Input.Date", "id": "day", "label": "Date"},
    ],
    "actions": [
        {"type": "Action.Submit", "title": "Book", "data": {"command": "book", "site": "x"}},
        {"type": "Action.Submit", "title": "Not now", "data": {"command": "later"}},
    ],
}


# ---- rendering ------------------------------------------------------------------------------


def test_text_blocks_become_headings_paragraphs_and_bullets() -> None:
    lines, actions = render(
        {
            "type": "AdaptiveCard",
            "body": [
                {
                    "type": "TextBlock",
                    "text": "Hello, I'm the EDI bot",
                    "size": "Large",
                    "weight": "Bolder",
                },
                {"type": "TextBlock", "text": "Read **the strategy** [online](https://x.test/s)."},
                {"type": "TextBlock", "text": "Our duty", "size": "Medium", "weight": "Bolder"},
                {"type": "TextBlock", "text": "- Eliminate discrimination.", "spacing": "Small"},
                {"type": "TextBlock", "text": "- Foster good relations.", "spacing": "Small"},
                {"type": "TextBlock", "text": "Source: the strategy", "isSubtle": True},
            ],
        }
    )
    assert lines == [
        "Hello, I'm the EDI bot",
        "======================",
        "",
        "Read the strategy online (https://x.test/s).",
        "",
        "Our duty",
        "--------",
        "",
        "- Eliminate discrimination.",
        "- Foster good relations.",
        "",
        "Source: the strategy",
    ]
    assert actions == []


def test_long_text_wraps_within_the_terminal_with_hanging_bullets() -> None:
    sentence = "Advance equality of opportunity between people who share a characteristic " * 3
    lines, _ = render(
        {
            "type": "AdaptiveCard",
            "body": [
                {"type": "TextBlock", "text": sentence, "wrap": True},
                {"type": "TextBlock", "text": "- " + sentence, "wrap": True},
            ],
        }
    )
    assert all(len(line) <= TEXT_WIDTH for line in lines)
    assert " ".join(" ".join(lines).split()).count("Advance equality") == 6
    bullet = lines[lines.index("") + 1 :]
    assert bullet[0].startswith("- Advance")
    assert all(line.startswith("  ") for line in bullet[1:])


def test_fact_set_lines_up_titles_and_values() -> None:
    lines, _ = render(
        {
            "type": "AdaptiveCard",
            "body": [
                {
                    "type": "FactSet",
                    "facts": [
                        {"title": "Network", "value": "Disability staff network"},
                        {"title": "Meets", "value": "**Monthly**"},
                    ],
                }
            ],
        }
    )
    assert lines == [
        "Network:  Disability staff network",
        "Meets:    Monthly",
    ]


def test_containers_columns_images_and_action_sets_read_in_order() -> None:
    lines, actions = render(
        {
            "type": "AdaptiveCard",
            "body": [
                {
                    "type": "Container",
                    "items": [
                        {"type": "Image", "url": "https://x.test/logo.png", "altText": "Logo"},
                        {"type": "TextBlock", "text": "Staff networks", "weight": "Bolder"},
                    ],
                },
                {
                    "type": "ColumnSet",
                    "columns": [
                        {"type": "Column", "items": [{"type": "TextBlock", "text": "Chair:"}]},
                        {"type": "Column", "items": [{"type": "TextBlock", "text": "Priya"}]},
                    ],
                },
                {
                    "type": "ColumnSet",
                    "separator": True,
                    "columns": [
                        {
                            "type": "Column",
                            "items": [
                                {"type": "TextBlock", "text": "Left first"},
                                {"type": "TextBlock", "text": "Left second"},
                            ],
                        },
                        {"type": "Column", "items": [{"type": "TextBlock", "text": "Right"}]},
                    ],
                },
                {
                    "type": "ActionSet",
                    "actions": [{"type": "Action.Submit", "title": "Join", "data": {"c": "join"}}],
                },
                {"type": "TextBlock", "text": "Hidden", "isVisible": False},
            ],
            "actions": [{"type": "Action.Submit", "title": "Back", "data": {"c": "back"}}],
        }
    )
    assert lines == [
        "[image: Logo]",
        "",
        "Staff networks",
        "",
        "Chair:   Priya",
        "",
        "Left first",
        "",
        "Left second",
        "",
        "Right",
        "",
        "[1] Join",
        "",
        "[2] Back",
    ]
    assert [a.title for a in actions] == ["Join", "Back"]
    assert [a.data for a in actions] == [{"c": "join"}, {"c": "back"}]


def test_actions_are_numbered_in_order_of_every_kind() -> None:
    lines, actions = render(
        {
            "type": "AdaptiveCard",
            "body": [{"type": "TextBlock", "text": "Choose"}],
            "actions": [
                {"type": "Action.Submit", "title": "About EDI", "data": {"command": "about"}},
                {"type": "Action.OpenUrl", "title": "Strategy", "url": "https://x.test/s"},
                {"type": "Action.ToggleVisibility", "title": "Details", "targetElements": []},
                {"type": "Action.ShowCard", "title": "Comment", "card": {"type": "AdaptiveCard"}},
                {"type": "Action.Submit", "title": "Off", "isEnabled": False},
                {"type": "Action.Execute", "title": "Refresh", "verb": "refresh"},
            ],
        },
        first_number=3,
    )
    assert lines[-4:] == [
        "[3] About EDI",
        "[4] Strategy (link: https://x.test/s)",
        "[5] Comment ...",
        "[6] Refresh",
    ]
    assert [a.kind for a in actions] == [
        "Action.Submit",
        "Action.OpenUrl",
        "Action.ShowCard",
        "Action.Execute",
    ]


def test_inputs_are_listed_with_what_they_take() -> None:
    lines, actions = render(FORM)
    assert lines == [
        "Book a session",
        "==============",
        "",
        "Your name: ____ (text)",
        "",
        "Site: ____ (one of: County Hall, Coalville, Online)",
        "",
        "Access needs: ____ (any of: Step-free access, Hearing loop, BSL interpreter)",
        "",
        "Send me a reminder: ____ (yes or no)",
        "",
        "Date: ____ (a date)",
        "",
        "(Choosing a button asks for the fields above.)",
        "[1] Book",
        "[2] Not now",
    ]
    assert [len(a.inputs) for a in actions] == [5, 5]


def test_plain_text_hero_cards_and_suggested_actions() -> None:
    activity = Activity(
        type=ActivityTypes.message,
        text="Type **menu** to see what I can do.",
        attachments=[
            Attachment(
                content_type=HERO,
                content={
                    "title": "Staff networks",
                    "text": "Support and a voice for staff.",
                    "buttons": [
                        {"type": "imBack", "title": "Menu", "value": "menu"},
                        {"type": "openUrl", "title": "Intranet", "value": "https://x.test/n"},
                    ],
                },
            )
        ],
        suggested_actions=SuggestedActions(
            actions=[CardAction(type="imBack", title="Cancel", value="cancel")]
        ),
    )
    rendered = CardTextRenderer().render_activity(activity)
    assert rendered.lines == [
        "Type menu to see what I can do.",
        "",
        "Staff networks",
        "--------------",
        "",
        "Support and a voice for staff.",
        "",
        "[1] Menu",
        "[2] Intranet (link: https://x.test/n)",
        "",
        "[3] Cancel",
    ]
    assert [(a.kind, a.data) for a in rendered.actions] == [
        ("imBack", "menu"),
        ("openUrl", "https://x.test/n"),
        ("imBack", "cancel"),
    ]


# ---- pressing buttons -------------------------------------------------------------------------


async def test_a_button_asks_for_every_input_and_submits_them_with_its_data() -> None:
    chat, bot, out = await chat_showing(FORM)
    # name, site, needs (multi), reminder toggle, date
    await chat.choose(1, Script(out, "Sam Patel", "2", "1, 3", "y", "2025-03-31"))
    [sent] = bot.received
    assert sent.type == ActivityTypes.message
    assert sent.text is None
    # Teams semantics: the action's data with each input's value (a string) written over it.
    assert sent.value == {
        "command": "book",
        "site": "cv",
        "name": "Sam Patel",
        "needs": "step,bsl",
        "remind": "true",
        "day": "2025-03-31",
    }


async def test_wrong_answers_are_asked_again_and_blank_skips() -> None:
    chat, bot, out = await chat_showing(FORM)
    script = Script(out, "", "7", "Online", "0, 2", "", "maybe", "n", "31/03/2025", "")
    await chat.choose(2, script)
    transcript = out.getvalue()
    assert "Please answer with the numbers shown (1 to 3)." in transcript
    assert "Please answer y or n." in transcript
    assert "Please type a date as YYYY-MM-DD" in transcript
    assert len(script.prompts) == 9
    assert "    1. County Hall\n    2. Coalville\n    3. Online\n" in transcript
    [sent] = bot.received
    # Blank name and date are left out; the site was given by title; the bad list re-asked,
    # then the needs were skipped; the toggle always sends its off value.
    assert sent.value == {"command": "later", "site": "on", "remind": "false"}


async def test_defaults_are_kept_on_blank_and_required_inputs_insist() -> None:
    card = {
        "type": "AdaptiveCard",
        "body": [
            {"type": "Input.Text", "id": "team", "label": "Team", "value": "Adults"},
            {"type": "Input.Text", "id": "why", "label": "Reason", "isRequired": True},
            {
                "type": "Input.Toggle",
                "id": "anon",
                "title": "Anonymous",
                "value": "yes",
                "valueOn": "yes",
                "valueOff": "no",
            },
            {"type": "Input.Number", "id": "people", "label": "People", "min": 1, "max": 30},
        ],
        "actions": [{"type": "Action.Submit", "title": "Send", "data": {"command": "send"}}],
    }
    chat, bot, out = await chat_showing(card)
    script = Script(out, "", "", "To learn", "", "lots", "40", "12")
    await chat.choose(1, script)
    assert "This one is required." in out.getvalue()
    assert "Please type a number." in out.getvalue()
    assert "Please type a number from 1 to 30." in out.getvalue()
    assert "  Team (Enter keeps Adults): " in script.prompts
    assert bot.received[0].value == {
        "command": "send",
        "team": "Adults",
        "why": "To learn",
        "anon": "yes",
        "people": "12",
    }


async def test_buttons_without_inputs_ask_nothing() -> None:
    card = {
        **FORM,
        "actions": [
            {
                "type": "Action.Submit",
                "title": "Skip",
                "associatedInputs": "none",
                "data": {"command": "skip"},
            },
        ],
    }
    chat, bot, out = await chat_showing(card)
    script = Script(out)
    await chat.choose(1, script)
    assert script.prompts == []
    assert bot.received[0].value == {"command": "skip"}


async def test_show_card_opens_below_and_its_buttons_carry_both_cards_inputs() -> None:
    card = {
        "type": "AdaptiveCard",
        "body": [{"type": "Input.Text", "id": "name", "label": "Your name"}],
        "actions": [
            {"type": "Action.Submit", "title": "Done", "data": {"command": "done"}},
            {
                "type": "Action.ShowCard",
                "title": "Add a comment",
                "card": {
                    "type": "AdaptiveCard",
                    "body": [{"type": "Input.Text", "id": "comment", "label": "Comment"}],
                    "actions": [
                        {"type": "Action.Submit", "title": "Send", "data": {"command": "note"}}
                    ],
                },
            },
        ],
    }
    chat, bot, out = await chat_showing(card)
    await chat.choose(2, Script(out))
    assert bot.received == []
    assert "Add a comment:" in out.getvalue()
    assert "[3] Send" in out.getvalue()
    assert [a.title for a in chat.actions] == ["Done", "Add a comment", "Send"]
    await chat.choose(3, Script(out, "Sam", "Great session"))
    assert bot.received[0].value == {"command": "note", "name": "Sam", "comment": "Great session"}


async def test_links_are_shown_not_sent_and_other_button_kinds_send_what_teams_sends() -> None:
    card = {
        "type": "AdaptiveCard",
        "body": [{"type": "Input.Text", "id": "q", "label": "Question"}],
        "actions": [
            {"type": "Action.OpenUrl", "title": "Strategy", "url": "https://x.test/s"},
            {"type": "Action.Submit", "title": "Menu", "data": "menu"},
            {
                "type": "Action.Submit",
                "title": "Help",
                "data": {"msteams": {"type": "imBack", "value": "help"}},
            },
            {"type": "Action.Execute", "title": "Ask", "verb": "ask", "data": {"topic": "duty"}},
        ],
    }
    chat, bot, out = await chat_showing(card)
    await chat.choose(1, Script(out))
    assert "Open this link in your browser: https://x.test/s" in out.getvalue()
    assert bot.received == []

    await chat.choose(2, Script(out, "ignored"))
    await chat.choose(3, Script(out, ""))
    assert [(a.type, a.text, a.value) for a in bot.received] == [
        ("message", "menu", None),
        ("message", "help", None),
    ]

    bot.invoke_response = InvokeResponse(
        status=200,
        body={
            "statusCode": 200,
            "type": ADAPTIVE,
            "value": {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "Thanks!"}]},
        },
    )
    await chat.choose(4, Script(out, "What is due regard?"))
    invoke = bot.received[-1]
    assert invoke.type == ActivityTypes.invoke
    assert invoke.name == "adaptiveCard/action"
    assert invoke.value == {
        "action": {
            "type": "Action.Execute",
            "verb": "ask",
            "data": {"topic": "duty", "q": "What is due regard?"},
        },
        "trigger": "manual",
    }
    assert out.getvalue().rstrip().endswith("Thanks!")


async def test_every_button_of_one_turn_gets_its_own_number() -> None:
    out = io.StringIO()

    async def two_cards(context: TurnContext) -> None:
        for title in ("First", "Second"):
            await context.send_activity(
                card_message(
                    {
                        "type": "AdaptiveCard",
                        "actions": [
                            {"type": "Action.Submit", "title": title, "data": {"c": title}}
                        ],
                    }
                )
            )

    async def fail(context: TurnContext, error: Exception) -> None:
        raise error

    chat = TerminalChat(user="Sam", tenant_id="t", on_turn=two_cards, on_error=fail, out=out)
    await chat.say("hi")
    assert "[1] First" in out.getvalue()
    assert "[2] Second" in out.getvalue()
    assert [a.title for a in chat.actions] == ["First", "Second"]
    await chat.say("again")
    assert [a.title for a in chat.actions] == ["First", "Second"]


def test_choice_prompt_directly() -> None:
    out = io.StringIO()
    element = FORM["body"][2]
    assert ask_input(element, Script(out, "9", "x", "1"), out) == "ch"
    assert out.getvalue().count("Please answer with the numbers shown") == 2


async def test_activities_are_shaped_as_teams_sends_them() -> None:
    chat, bot, _ = await chat_showing({"type": "AdaptiveCard"}, user="Sam Patel")
    await chat.say("hello")
    activity = bot.received[0]
    assert activity.channel_id == "msteams"
    assert activity.conversation.conversation_type == "personal"
    assert activity.conversation.tenant_id == "tenant-1"
    assert activity.channel_data == {"tenant": {"id": "tenant-1"}}
    assert activity.from_property.name == "Sam Patel"
    same, _, _ = await chat_showing({"type": "AdaptiveCard"}, user="  sam   PATEL ")
    other, _, _ = await chat_showing({"type": "AdaptiveCard"}, user="Alex Jones")
    assert same.user.aad_object_id == chat.user.aad_object_id
    assert same.conversation.id == chat.conversation.id
    assert other.user.aad_object_id != chat.user.aad_object_id
    assert other.conversation.id != chat.conversation.id


def test_database_urls_are_shown_without_passwords() -> None:
    shown = safe_url("postgresql+asyncpg://edi:s3cret-pw@db.internal:5432/edi")
    assert "s3cret-pw" not in shown
    assert shown == "postgresql+asyncpg://edi:***@db.internal:5432/edi"
    assert safe_url("sqlite+aiosqlite:///var/edi-bot.db") == "sqlite+aiosqlite:///var/edi-bot.db"


async def test_ctrl_c_while_filling_in_fields_sends_nothing() -> None:
    chat, bot, out = await chat_showing(FORM)
    await _loop(chat, Script(out, "1", "Sam", KeyboardInterrupt, "/quit"), out)
    assert "Nothing was sent." in out.getvalue()
    assert bot.received == []


async def test_input_ending_while_filling_in_fields_sends_nothing_and_ends_quietly() -> None:
    chat, bot, out = await chat_showing(FORM)
    await _loop(chat, Script(out, "1", "Sam"), out)  # then Ctrl-D at the next field
    assert out.getvalue().rstrip().endswith("Nothing was sent.")
    assert bot.received == []


# ---- real sessions, on SQLite and PostgreSQL -----------------------------------------------------


async def test_a_session_from_welcome_to_topic_to_cancel(settings: Settings) -> None:
    code, transcript = await chat_session(
        settings, "Sam Patel", "1", "3", "2", "cancel", "hello there", "/quit"
    )
    assert code == 0
    banner, _rest = transcript.split(PROMPT, 1)
    assert "You are Sam Patel." in banner
    assert f"Database: {safe_url(settings.database_url)}" in banner
    assert "Hello, I'm the EDI bot" in banner
    assert "[1] About EDI" in banner

    topics = after(transcript, "1")
    assert "What would you like to know about?" in topics
    assert "[3] Our legal duty" in topics

    duty = after(transcript, "3")
    assert "The Public Sector Equality Duty" in duty
    assert "Anything else you'd like to know about?" in duty
    assert "[2] Protected characteristics" in duty
    assert "[4] That's all, thanks" in duty
    assert "**" not in duty

    assert "The protected characteristics" in after(transcript, "2")
    assert "OK, I've stopped “About EDI”." in after(transcript, "cancel")
    assert "Hello.\n" in after(transcript, "hello there")
    assert transcript.endswith(f"{PROMPT}/quit\nGoodbye.\n")


async def test_finishing_the_topics_says_youre_welcome(settings: Settings) -> None:
    _, transcript = await chat_session(settings, "Sam Patel", "about", "who", "4", "/quit")
    assert "Who does what" in after(transcript, "who")
    assert "You're welcome." in after(transcript, "4")


async def test_end_of_input_and_ctrl_c_leave_cleanly(settings: Settings) -> None:
    code, transcript = await chat_session(settings, "Sam Patel")
    assert code == 0
    assert transcript.endswith("Goodbye.\n")
    code, transcript = await chat_session(settings, "Sam Patel", KeyboardInterrupt)
    assert code == 0
    assert transcript.endswith("Goodbye.\n")
    assert "Traceback" not in transcript


async def test_terminal_commands_are_not_sent_to_the_bot(settings: Settings) -> None:
    _, transcript = await chat_session(
        settings, "Sam Patel", "/help", "19", "/buttons", "/nonsense", "/say 19", "/quit"
    )
    assert "/buttons" in after(transcript, "/help")
    assert "There is no button 19: choose 1 to " in after(transcript, "19")
    assert "[1] About EDI" in after(transcript, "/buttons")
    assert "Unknown command /nonsense" in after(transcript, "/nonsense")
    assert "I'm not sure what you meant" in after(transcript, "/say 19")
    assert transcript.count("I'm not sure what you meant") == 1


async def test_a_new_session_carries_on_where_the_last_one_stopped(settings: Settings) -> None:
    _, first = await chat_session(settings, "Sam Patel", "1")
    assert "What would you like to know about?" in after(first, "1")

    _, second = await chat_session(settings, "Sam Patel", "duty", "/quit")
    banner = second.split(PROMPT, 1)[0]
    assert "Welcome back. We were in the middle of “About EDI”" in banner
    assert "What would you like to know about?" in banner  # the waiting question, again
    assert "Hello, I'm the EDI bot" not in banner
    reply = after(second, "duty")
    assert "The Public Sector Equality Duty" in reply
    assert "didn't understand" not in reply

    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            keys = (await connection.execute(select(BotStateDocument.key))).scalars().all()
    finally:
        await engine.dispose()
    assert len(keys) == 1  # one conversation, carried on: not a second one started


async def test_different_names_are_different_people(settings: Settings) -> None:
    await chat_session(settings, "Sam Patel", "about")

    _, alex = await chat_session(settings, "Alex Jones", "duty", "/quit")
    assert "Welcome back" not in alex
    assert "Hello, I'm the EDI bot" in alex.split(PROMPT, 1)[0]
    assert "The Public Sector Equality Duty" not in after(alex, "duty")

    _, sam = await chat_session(settings, "Sam Patel", "duty", "/quit")
    assert "The Public Sector Equality Duty" in after(sam, "duty")

    engine = create_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            keys = (await connection.execute(select(BotStateDocument.key))).scalars().all()
    finally:
        await engine.dispose()
    assert len(set(keys)) == 2  # one stored conversation per person


async def test_a_finished_conversation_starts_with_the_welcome_again(settings: Settings) -> None:
    await chat_session(settings, "Sam Patel", "about", "done")
    _, transcript = await chat_session(settings, "Sam Patel", "/quit")
    assert "Welcome back" not in transcript
    assert "Hello, I'm the EDI bot" in transcript


class ClosingOutput(io.StringIO):
    """A terminal whose reader goes away (`edi-bot chat | head`) once `gone` is set."""

    gone = False

    def write(self, text: str) -> int:
        if self.gone:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


async def test_output_going_away_ends_the_chat_without_losing_the_conversation(
    settings: Settings,
) -> None:
    out = ClosingOutput()

    def ask(prompt: str) -> str:
        out.gone = True  # the reader leaves while the bot answers "1"
        return "1"

    assert await run_chat(settings, user="Sam Patel", ask=ask, out=out) == 0
    assert "Hello, I'm the EDI bot" in out.getvalue()
    assert "What would you like to know about?" not in out.getvalue()
    # The turn committed; only its printing failed, so the dialog is still waiting.
    _, transcript = await chat_session(settings, "Sam Patel", "duty", "/quit")
    assert "Welcome back. We were in the middle of “About EDI”" in transcript
    assert "The Public Sector Equality Duty" in after(transcript, "duty")


async def test_an_unreachable_database_is_reported_without_its_password() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url="postgresql+asyncpg://edi:s3cret-pw@127.0.0.1:9/edi"
    )
    out = io.StringIO()
    code = await run_chat(settings, user="Sam", ask=Script(out), out=out)
    assert code == 1
    assert "Cannot open the database postgresql+asyncpg://edi:***@127.0.0.1:9/edi" in out.getvalue()
    assert "s3cret-pw" not in out.getvalue()
