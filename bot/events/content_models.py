"""The shape of content/events/words.yaml.

Each model describes one file: a key misspelt, missing or of the wrong kind is reported with
the file and line (`bot.core.content.load_model`), by `edi-bot content check` and at start-up.
"""

from __future__ import annotations

from pydantic import Field

from bot.core.content import ContentModel as _Model


class EventCommands(_Model):
    """The `commands` section."""

    list_: list[str] = Field(alias="list")
    mine: list[str]
    details: list[str]
    signup: list[str]
    cancel: list[str]
    claim: list[str]
    needs: list[str]
    save_needs: list[str]
    confirm_cancel: list[str]


class EventNeeds(_Model):
    """The `needs` section."""

    bsl: str
    step_free: str
    captions: str
    dietary: str
    other: str


class EventFacts(_Model):
    """The `facts` section."""

    host: str
    starts: str
    ends: str
    where: str
    online: str
    deadline: str
    places: str
    your_place: str


class EventListStatus(_Model):
    """The `list_status` section."""

    confirmed: str
    offered: str
    waitlisted: str


class EventList(_Model):
    """The `list` section."""

    heading: str
    heading_filtered: str
    intro: str
    none: str
    places_left: str
    full: str
    details_button: str
    details_button_place: str
    details_button_waiting: str
    all_: str = Field(alias="all")
    mine: str
    status: EventListStatus


class EventDetails(_Model):
    """The `details` section."""

    accessibility: str
    needs_label: str
    details_label: str
    details_placeholder: str
    needs_privacy: str
    signup: str
    join_waitlist: str
    cancel: str
    leave_waitlist: str
    claim: str
    closed: str
    typed_note: str


class EventMine(_Model):
    """The `mine` section."""

    heading: str
    none: str
    needs: str
    no_needs: str
    waitlist_place: str
    offered_until: str
    change_needs: str


class EventNeedsForm(_Model):
    """The `needs_form` section: changing adjustment needs after signing up."""

    heading: str
    intro: str
    save: str
    keep: str


class EventConfirmCancel(_Model):
    """The `confirm_cancel` section: asked before a place is given up."""

    heading: str
    heading_waitlist: str
    heading_offer: str
    body: str
    body_waitlist: str
    give_up: str
    give_up_waitlist: str
    give_up_offer: str
    keep: str


class EventReplies(_Model):
    """The `replies` section."""

    choose_event: str
    unknown_event: str
    cancelled_event: str
    past_event: str
    deadline_passed: str
    already_confirmed: str
    already_waitlisted: str
    already_offered: str
    bad_needs: str
    not_signed_up: str
    left_waitlist: str
    offer_expired: str
    no_offer: str
    cancelled_event_claim: str
    needs_saved: str
    needs_cleared: str


class EventNotifyConfirmedButtonsItem(_Model):
    """One of the `notify_confirmed_buttons` list."""

    title: str
    command: str


class EventNotifyConfirmed(_Model):
    """The `notify_confirmed` section."""

    summary: str
    heading: str
    paragraphs: list[str]
    buttons: list[EventNotifyConfirmedButtonsItem]


class EventNotifyEventCancelled(_Model):
    """The `notify_event_cancelled` section."""

    summary: str
    heading: str
    paragraphs: list[str]


class EventNotifyAttendeeList(_Model):
    """The `notify_attendee_list` section."""

    summary: str


class EventNotify(_Model):
    """The `notify` section."""

    confirmed: EventNotifyConfirmed
    waitlisted: EventNotifyConfirmed
    offer: EventNotifyConfirmed
    claimed: EventNotifyConfirmed
    reminder: EventNotifyConfirmed
    updated: EventNotifyConfirmed
    event_cancelled: EventNotifyEventCancelled
    place_cancelled: EventNotifyEventCancelled
    attendee_list: EventNotifyAttendeeList


class EventAttendees(_Model):
    """The `attendees` section."""

    heading: str
    summary: str
    privacy: str
    nobody: str
    statuses: EventListStatus
    needs_line: str
    no_codes: str
    attended_toggle: str
    save: str
    open_: str = Field(alias="open")


class EventProblems(_Model):
    """The `problems` section."""

    title: str
    title_long: str
    text_long: str
    network: str
    kind: str
    end_before_start: str
    deadline_after_start: str
    in_the_past: str
    capacity: str
    online_url: str
    where: str
    slug: str
    slug_taken: str
    unknown: str
    cancelled: str
    capacity_below: str
    times: str
    not_yours: str
    no_scope: str


class EventAdminFields(_Model):
    """The `admin_fields` section."""

    title: str
    host: str
    description: str
    start_date: str
    start_time: str
    end_time: str
    deadline_date: str
    deadline_time: str
    location: str
    online_url: str
    capacity: str
    accessibility: str


class EventAdmin(_Model):
    """The `admin` section."""

    heading: str
    intro: str
    none: str
    new: str
    done: str
    edit: str
    attendees: str
    cancel: str
    members: str
    form_heading_new: str
    form_heading_edit: str
    form_note: str
    save: str
    fields: EventAdminFields
    saved_new: str
    saved_edit: str
    unchanged: str
    fix: str
    confirm_cancel: str
    confirm_yes: str
    confirm_no: str
    cancelled: str
    kept: str
    attendance_saved: str
    attendance_too_early: str
    members_heading: str
    members_note: str
    members_none: str
    members_refused: str
    bad_choice: str
    old_button: str


class EventNetworksCommands(_Model):
    """The `networks_commands` section."""

    list_: list[str] = Field(alias="list")
    join: list[str]
    leave: list[str]


class EventNetworks(_Model):
    """The `networks` section."""

    heading: str
    intro: str
    member: str
    join: str
    leave: str
    events: str
    joined: str
    already_member: str
    left: str
    not_member: str
    unknown: str
    commands: EventNetworksCommands


class EventWords(_Model):
    """The whole file."""

    big_conversation: str
    unnamed: str
    add_to_calendar: str
    remove_from_calendar: str
    commands: EventCommands
    needs: EventNeeds
    facts: EventFacts
    list_: EventList = Field(alias="list")
    details: EventDetails
    mine: EventMine
    needs_form: EventNeedsForm
    confirm_cancel: EventConfirmCancel
    replies: EventReplies
    notify: EventNotify
    attendees: EventAttendees
    problems: EventProblems
    admin: EventAdmin
    networks: EventNetworks
