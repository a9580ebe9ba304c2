"""The shapes of the shell's content: shell/text.yaml, shell/menu.yaml and each feature's
menu.yaml, shell/about_edi.yaml, and teams/app.yaml.

Each model describes one file: a key misspelt, missing or of the wrong kind is reported with
the file and line (`bot.core.content.load_model`), by `edi-bot content check` and at start-up.
"""

from __future__ import annotations

from pydantic import Field

from bot.core.content import ContentModel as _Model


class ShellShell(_Model):
    """The `shell` section."""

    kept: str
    guess_heading: str
    guess_body: str
    guess_everything: str
    not_sure_heading: str
    not_sure_body: str
    harm_heading: str
    harm_body: str
    small_talk_waiting: str
    card_fallback: str
    cancelled: str
    nothing_to_cancel: str
    stale_card: str
    unreadable_card: str
    text_only: str
    too_long: str
    crossed: str
    error: str
    not_allowed: str
    welcome_back: str
    switch_heading: str
    switch_body: str
    switch_go: str
    switch_stay: str
    resumed: str
    goodbye_topic: str


class ShellText(_Model):
    """The whole file."""

    shell: ShellShell


class AboutTopicsItem(_Model):
    """One of the `topics` list."""

    id_: str = Field(alias="id")
    label: str
    heading: str
    paragraphs: list[str] | None = Field(default=None)
    source: str
    bullets: list[str] | None = Field(default=None)


class AboutFile(_Model):
    """The whole file."""

    prompt: str
    retry: str
    more: str
    done_label: str
    topics: list[AboutTopicsItem]


class AppExtraCommandsItem(_Model):
    """One of the `extra_commands` list."""

    title: str
    description: str


class AppFile(_Model):
    """The whole file."""

    developer_name: str
    short_name: str
    full_name: str
    short_description: str
    full_description: str
    accent_color: str
    extra_commands: list[AppExtraCommandsItem]


class MenuItem(_Model):
    """One entry on the welcome card (see shell/menu.yaml's comment)."""

    command: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    words: list[str] = Field(default_factory=list)
    role: str | None = None
    hidden: bool = False
    examples: list[str] = Field(default_factory=list)


class FeatureMenu(_Model):
    """A feature's <feature>/menu.yaml: its entries on the welcome card."""

    entries: list[MenuItem]


class ShellMenu(FeatureMenu):
    """shell/menu.yaml: the welcome card's words and the shell's own entries."""

    title: str
    intro: str
    tips: str


class SmallTalkKind(_Model):
    """One kind of small talk: how people say it, and the answer."""

    kind: str = Field(min_length=1)
    examples: list[str] = Field(min_length=1)
    emoji: list[str] = Field(default_factory=list)  # sent on their own, they mean this kind
    answer: str = Field(min_length=1)


class SmallTalkFile(_Model):
    """shell/smalltalk.yaml: what people say that asks for nothing."""

    kinds: list[SmallTalkKind]


class HarmWordsFile(_Model):
    """shell/harm_words.yaml: words that put the report first."""

    words: list[str] = Field(min_length=1)
