"""The shapes of content/declarations/: words.yaml and taxonomy.yaml.

Each model describes one file: a key misspelt, missing or of the wrong kind is reported with
the file and line (`bot.core.content.load_model`), by `edi-bot content check` and at start-up.
"""

from __future__ import annotations

from pydantic import Field

from bot.core.content import ContentModel as _Model


class DeclarationNotice(_Model):
    """The `notice` section."""

    heading: str
    paragraphs: list[str]
    question: str
    one_at_a_time: str
    forms: str
    not_now: str


class DeclarationDescribe(_Model):
    """The `describe` section."""

    heading: str
    label: str
    note: str
    save: str
    skip: str


class DeclarationPart(_Model):
    """The `part` section."""

    intro: str
    placeholder: str
    depends: str
    describe_label: str
    describe_label_many: str
    words_not_kept: str
    next_: str = Field(alias="next")
    finish: str
    skip: str
    problem: str
    bad_answer: str
    bad_length: str


class DeclarationConfirm(_Model):
    """The `confirm` section."""

    heading: str
    heading_change: str
    intro: str
    not_answered: str
    changed: str
    own_words: str
    save: str
    change: str
    later: str
    problems: str


class DeclarationResume(_Model):
    """The `resume` section."""

    heading: str
    intro: str
    heading_change: str
    intro_change: str
    carry_on: str
    start_again: str
    discard_change: str
    not_now: str
    version_changed: str


class DeclarationMyData(_Model):
    """The `my_data` section."""

    heading: str
    intro: str
    counted: str
    objecting: str
    dates: str
    answers: str
    change: str
    still_right: str
    export: str
    history: str
    object_: str = Field(alias="object")
    count_again: str
    delete: str
    done: str
    nothing: str
    confirmed: str
    counted_again: str
    done_message: str
    back: str


class DeclarationPick(_Model):
    """The `pick` section."""

    heading: str
    choice: str
    back: str


class DeclarationCopyFileSections(_Model):
    """The `copy_file_sections` section."""

    equality_declaration: str
    events: str
    bulletin: str
    incident_reports: str
    private_records: str
    roles: str
    action_plans: str
    workforce_roster: str
    proactive_messages: str
    display_name: str
    conversation_references: str
    unfinished_conversations: str
    audited_actions: str


class DeclarationCopyFile(_Model):
    """The `copy_file` section."""

    name: str
    what_this_is: str
    sections: DeclarationCopyFileSections
    other_section: str
    withheld: str
    expired: str
    not_found: str


class DeclarationCopy(_Model):
    """The `copy` section."""

    heading: str
    contains: str
    link: str
    offer: str
    download: str
    summary: str
    back: str
    done: str
    file: DeclarationCopyFile


class DeclarationSummaryItemsEventSignups(_Model):
    """The `summary_items_event_signups` section."""

    title: str
    value: str


class DeclarationSummaryItemsBulletinUnsubscribed(_Model):
    """The `summary_items_bulletin_unsubscribed` section."""

    title: str
    value: str
    none: str


class DeclarationSummaryItems(_Model):
    """The `summary_items` section."""

    event_signups: DeclarationSummaryItemsEventSignups
    staff_networks: DeclarationSummaryItemsEventSignups
    bulletins: DeclarationSummaryItemsEventSignups
    bulletin_reactions: DeclarationSummaryItemsEventSignups
    bulletin_unsubscribed: DeclarationSummaryItemsBulletinUnsubscribed
    incident_reports: DeclarationSummaryItemsEventSignups
    private_records: DeclarationSummaryItemsEventSignups
    roles: DeclarationSummaryItemsEventSignups
    action_plans: DeclarationSummaryItemsEventSignups
    workforce_roster: DeclarationSummaryItemsBulletinUnsubscribed
    proactive_messages: DeclarationSummaryItemsEventSignups
    unfinished_conversations: DeclarationSummaryItemsEventSignups


class DeclarationSummary(_Model):
    """The `summary` section."""

    heading: str
    intro: str
    equality: str
    not_given: str
    counted: str
    counted_yes: str
    counted_no: str
    dates: str
    elsewhere: str
    none: str
    items: DeclarationSummaryItems
    note: str


class DeclarationHistory(_Model):
    """The `history` section."""

    heading: str
    note: str
    empty: str
    declared: str
    answered: str
    changed: str
    removed: str
    described: str
    relisted: str
    objected: str
    counted_again: str
    reviewed: str


class DeclarationWithdraw(_Model):
    """The `withdraw` section."""

    heading: str
    held: str
    draft: str
    final: str
    yes: str
    no: str
    done: str
    done_draft: str
    done_both: str
    kept: str
    nothing: str


class DeclarationObject(_Model):
    """The `object` section."""

    heading: str
    intro: str
    effect: str
    yes: str
    no: str
    done: str
    kept: str
    already: str


class DeclarationReviewPrompt(_Model):
    """The `review_prompt` section."""

    heading: str
    text: str
    button: str


class DeclarationWords(_Model):
    """The whole file."""

    notice: DeclarationNotice
    private_only: str
    who_unknown: str
    not_now: str
    kept_for_later: str
    someone_else: str
    out_of_date: str
    list_changed: str
    not_an_answer: str
    earlier_question: str
    first_question: str
    too_long: str
    discarded: str
    not_understood: str
    why: str
    progress: str
    progress_follow_up: str
    progress_change: str
    part_progress: str
    group_first: str
    group_then: str
    your_answer_now: str
    skip: str
    back: str
    later: str
    other_group: str
    describe: DeclarationDescribe
    part: DeclarationPart
    confirm: DeclarationConfirm
    saved_new: str
    saved_changed: str
    saved_unchanged: str
    resume: DeclarationResume
    my_data: DeclarationMyData
    pick: DeclarationPick
    copy_: DeclarationCopy = Field(alias="copy")
    summary: DeclarationSummary
    history: DeclarationHistory
    older_answer: str
    withdraw: DeclarationWithdraw
    object_: DeclarationObject = Field(alias="object")
    review_prompt: DeclarationReviewPrompt


class TaxonomyPreferNotToSay(_Model):
    """The `prefer_not_to_say` section."""

    code: str
    label: str


class TaxonomyPartsItem(_Model):
    """One of the `parts` list."""

    id_: str = Field(alias="id")
    title: str


class TaxonomyQuestionsItemOptionsItem(_Model):
    """One of the `questionsItem_options` list."""

    code: str
    label: str
    describe: bool | None = Field(default=None)
    describe_prompt: str | None = Field(default=None)
    words: list[str] | None = Field(default=None)
    group: str | None = Field(default=None)


class TaxonomyQuestionsItemGroupsItem(_Model):
    """One of the `questionsItem_groups` list."""

    id_: str = Field(alias="id")
    label: str


class TaxonomyQuestionsItemAskIf(_Model):
    """The `questionsItem_ask_if` section."""

    question: str
    codes: list[str]


class TaxonomyQuestionsItem(_Model):
    """One of the `questions` list."""

    id_: str = Field(alias="id")
    part: str
    title: str
    question: str
    why: str
    standard: str
    options: list[TaxonomyQuestionsItemOptionsItem] | None = Field(default=None)
    groups: list[TaxonomyQuestionsItemGroupsItem] | None = Field(default=None)
    ask_if: TaxonomyQuestionsItemAskIf | None = Field(default=None)


class TaxonomyFile(_Model):
    """The whole file."""

    version: str
    prefer_not_to_say: TaxonomyPreferNotToSay
    parts: list[TaxonomyPartsItem]
    questions: list[TaxonomyQuestionsItem]
