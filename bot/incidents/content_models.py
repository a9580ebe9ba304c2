"""The shapes of content/incidents/: words.yaml and passphrase_words.yaml.

Each model describes one file: a key misspelt, missing or of the wrong kind is reported with
the file and line (`bot.core.content.load_model`), by `edi-bot content check` and at start-up.
"""

from __future__ import annotations

from pydantic import Field

from bot.core.content import ContentModel as _Model


class IncidentLimits(_Model):
    """The `limits` section."""

    narrative_chars: int = Field(ge=1)
    note_chars: int = Field(ge=1)
    short_chars: int = Field(ge=1)
    passphrase_attempts: int = Field(ge=1)
    cooldown_minutes: int = Field(ge=1)
    release_batch: int = Field(ge=1)
    acknowledge_days: int = Field(ge=1)
    feedback_months: int = Field(ge=1)
    remind_days_before_acknowledge: int = Field(ge=1)
    remind_days_before_feedback: int = Field(ge=1)
    followup_card_minutes: int = Field(ge=1)


class IncidentSafety(_Model):
    """The `safety` section."""

    question: str
    first: str
    say_yes: str
    say_no: str
    danger_heading: str
    danger_paragraphs: list[str]
    danger_after: str


class IncidentModesOptionsItem(_Model):
    """One of the `modes_options` list."""

    id_: str = Field(alias="id")
    label: str
    explain: str


class IncidentModes(_Model):
    """The `modes` section."""

    question: str
    explain: str
    options: list[IncidentModesOptionsItem]
    drop_contact: str
    drop_contact_yes: str
    drop_contact_no: str


class IncidentRelationshipsOptionsItem(_Model):
    """One of the `relationships_options` list."""

    id_: str = Field(alias="id")
    label: str


class IncidentRelationships(_Model):
    """The `relationships` section."""

    question: str
    options: list[IncidentRelationshipsOptionsItem]
    on_behalf_guidance: str


class IncidentNarrative(_Model):
    """The `narrative` section."""

    question: str
    hint: str
    placeholder: str
    started_with: str
    type_here: str
    empty: str
    too_long: str


class IncidentDetailsMotivations(_Model):
    """The `details_motivations` section."""

    label: str
    options: list[IncidentRelationshipsOptionsItem]


class IncidentDetails(_Model):
    """The `details` section."""

    heading: str
    hint: str
    when_label: str
    approx_label: str
    impact_label: str
    other_labels: dict[str, str]
    future_date: str
    bad_date: str
    unknown_choice: str
    motivations: IncidentDetailsMotivations
    kinds: IncidentDetailsMotivations
    location: IncidentDetailsMotivations
    perpetrator: IncidentDetailsMotivations
    frequency: IncidentDetailsMotivations
    possible_crime: IncidentDetailsMotivations


class IncidentSupport(_Model):
    """The `support` section."""

    heading: str
    contact_label: str
    contact_anonymous: str
    consent_intro: str
    consent_monitoring: str
    consent_police: str
    consent_hr: str


class IncidentReviewSections(_Model):
    """The `review_sections` section."""

    mode: str
    relationship: str
    narrative: str
    details: str
    support: str


class IncidentReview(_Model):
    """The `review` section."""

    heading: str
    hint: str
    submit: str
    discard: str
    discarded: str
    edit: str
    not_given: str
    sections: IncidentReviewSections


class IncidentResume(_Model):
    """The `resume` section."""

    question: str
    continue_: str = Field(alias="continue")
    restart: str
    expired: str
    picked_up: str


class IncidentReceipt(_Model):
    """The `receipt` section."""

    heading: str
    reference_label: str
    passphrase_label: str
    passphrase_warning: str
    named_next: str
    anonymous_next: str
    summary_heading: str
    submitted_label: str
    support_heading: str


class IncidentSupportServicesItem(_Model):
    """One of the `support_services` list."""

    name: str
    detail: str
    when: list[str]
    confirm: str | None = None


class IncidentCheck(_Model):
    """The `check` section."""

    heading: str
    hint: str
    reference_label: str
    passphrase_label: str
    not_found: str
    paused: str
    too_many_tries: str
    status_heading: str
    status_label: str
    received_label: str
    messages_heading: str
    no_messages: str
    from_handler: str
    from_reporter: str
    add_label: str
    add_button: str
    done_button: str
    added: str
    added_anonymous: str
    pending_status: str
    expired_card: str
    empty_note: str
    note_too_long: str
    typed_heading: str
    typed_body: str
    typed_label: str
    typed_add: str
    typed_skip: str
    typed_skipped: str
    typed_not_found: str


class IncidentStatuses(_Model):
    """The `statuses` section."""

    new: str
    acknowledged: str
    in_progress: str
    closed: str


class IncidentNotify(_Model):
    """The `notify` section."""

    handler_new: str
    handler_new_body: str
    handler_info: str
    reporter_update: str
    reporter_message: str
    handler_assigned: str
    handler_assigned_body: str
    remind_acknowledge: str
    remind_feedback: str
    escalate_acknowledge: str
    escalate_feedback: str


class IncidentCasesActions(_Model):
    """The `cases_actions` section."""

    acknowledge: str
    triage: str
    take: str
    assign: str
    message: str
    close: str
    back: str
    done: str


class IncidentCasesOutcomesItem(_Model):
    """One of the `cases_outcomes` list."""

    id_: str = Field(alias="id")
    label: str
    needs: str | None = Field(default=None)


class IncidentCasesCommandLine(_Model):
    """The `cases.command_line` section: what `edi-bot cases ack|triage|assign|close` say."""

    not_a_reference: str
    no_case: str
    not_a_handler: str
    no_tenant: str
    bad_option: str
    note_too_long: str
    already_acknowledged: str
    already_closed: str
    acknowledged: str
    triaged: str
    taken: str
    assigned: str
    closed: str
    changed_meanwhile: str


class IncidentCases(_Model):
    """The `cases` section."""

    list_heading: str
    typed_note: str
    none_open: str
    open_button: str
    closed_hint: str
    ask: str
    not_found: str
    case_heading: str
    actions: IncidentCasesActions
    acknowledged: str
    already_acknowledged: str
    told_yes: str
    told_no: str
    taken: str
    assign_heading: str
    assign_label: str
    assigned: str
    assigned_unreachable: str
    assigned_note: str
    handler_not_bound: str
    not_a_handler: str
    unnamed_handler: str
    triage_heading: str
    risk_label: str
    risk: list[IncidentRelationshipsOptionsItem]
    classification_label: str
    classification: list[IncidentRelationshipsOptionsItem]
    triaged: str
    message_heading: str
    message_label: str
    message_sent: str
    close_heading: str
    outcome_label: str
    outcomes: list[IncidentCasesOutcomesItem]
    close_note_label: str
    closed: str
    already_closed: str
    no_consent: str
    bad_choice: str
    changed_meanwhile: str
    command_line: IncidentCasesCommandLine
    reporter_label: str
    reporter_anonymous: str
    history_heading: str


class IncidentEvidenceRefused(_Model):
    """Why a file was not kept, one sentence per reason ({name}, {max_size}, {max_files})."""

    too_many: str
    too_big: str
    wrong_type: str
    too_many_pixels: str
    unreadable: str
    active_pdf: str
    empty: str
    not_allowed: str
    failed: str


class IncidentEvidence(_Model):
    """The `evidence` section: files sent with a report, and case handlers' links to them."""

    hint: str
    added: str
    room_left: str
    room_none: str
    anonymous_note: str
    review_heading: str
    review_none: str
    remove: str
    removed: str
    remove_gone: str
    refused: IncidentEvidenceRefused
    nothing_lost: str
    unnamed: str
    no_conversation: str
    check_kept: str
    check_added: str
    check_added_anonymous: str
    check_full: str
    check_over: str
    check_dropped: str
    one_file: str
    many_files: str
    files_label: str
    check_hint: str
    waiting_label: str
    links_button: str
    links_heading: str
    links_body: str
    link_title: str
    links_none: str
    case_heading: str
    case_none: str
    link_expired: str
    link_not_found: str
    link_no_role: str


class IncidentWords(_Model):
    """The whole file."""

    limits: IncidentLimits
    safety: IncidentSafety
    modes: IncidentModes
    relationships: IncidentRelationships
    narrative: IncidentNarrative
    details: IncidentDetails
    support: IncidentSupport
    review: IncidentReview
    resume: IncidentResume
    old_button: str
    typed_at_form: str
    receipt: IncidentReceipt
    support_services: list[IncidentSupportServicesItem]
    check: IncidentCheck
    statuses: IncidentStatuses
    notify: IncidentNotify
    cases: IncidentCases
    evidence: IncidentEvidence


class PassphraseWords(_Model):
    """The whole file."""

    words: list[str]
