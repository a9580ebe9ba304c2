"""The shape of content/bulletins/words.yaml (the bulletins themselves: bot/bulletins/authoring.py).

Each model describes one file: a key misspelt, missing or of the wrong kind is reported with
the file and line (`bot.core.content.load_model`), by `edi-bot content check` and at start-up.
"""

from __future__ import annotations

from bot.core.content import ContentModel as _Model


class BulletinCard(_Model):
    """The `card` section."""

    events_heading: str
    event_link: str
    sign_up: str
    links_heading: str
    feedback_question: str
    comment_label: str
    comment_placeholder: str
    privacy_note: str
    useful: str
    not_useful: str
    unsubscribe: str
    subscribe: str
    typed_heading: str
    typed_body: str
    dont_send: str


class BulletinCommands(_Model):
    """The `commands` section."""

    feedback: list[str]
    unsubscribe: list[str]
    subscribe: list[str]


class BulletinReplies(_Model):
    """The `replies` section."""

    none_yet: str
    unknown_bulletin: str
    thanks_useful: str
    thanks_not_useful: str
    changed_useful: str
    changed_not_useful: str
    kept_useful: str
    kept_not_useful: str
    thanks_comment: str
    thanks_comment_added: str
    comment_same: str
    not_sent: str
    comment_too_long: str
    unsubscribed: str
    already_unsubscribed: str
    subscribed: str
    already_subscribed: str
    subscribe_button: str


class BulletinWords(_Model):
    """The whole file."""

    card: BulletinCard
    commands: BulletinCommands
    replies: BulletinReplies
