"""Which nudges are due on a day: a pure function of the plan, the action's state and the day.

For each action not done, on a working day `today`:

* the next milestone (on or after today) is nudged at the smallest configured offset that
  has been reached ("before:14" when 10 working days remain and the offsets are 30/14/7/1),
  so a late start or a missed day sends one nudge, not a backlog;
* the latest milestone before today, if it was not met, is nudged as overdue once per
  `overdue_every_days` ("overdue:0", "overdue:1", ...), and escalated ("escalate", once)
  when more than `escalate_after_days` working days have passed, for `reminder_weeks`
  weeks after it;
* after that it is long past: "past", sent once (to a lead who was never reminded of it,
  and to the board chair in one summary when it was never escalated: see nudging.py).

A milestone is met when the action is done; a check-in milestone (every milestone but the
last of a dated deadline) is also met by any progress update since the milestone before it,
and a final one by a progress update on or after its day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.actions.deadlines import Milestone
from bot.actions.plans import Action
from bot.core.clock import working_days_between

NudgeKind = Literal["before", "overdue", "escalate", "past"]
PAST = "past"


@dataclass(frozen=True)
class NudgeRules:
    """The configured offsets and thresholds."""

    offsets: tuple[int, ...] = (30, 14, 7, 1)
    overdue_every_days: int = 7
    escalate_after_days: int = 10
    reminder_weeks: int = 6  # weekly reminders and escalation; after that, "past" once

    def long_past(self, milestone: date, today: date) -> bool:
        """Whether `milestone` passed more than `reminder_weeks` weeks before `today`."""
        return (today - milestone).days > self.reminder_weeks * 7


@dataclass(frozen=True)
class Due:
    """One nudge due today about one action's milestone."""

    action: Action
    milestone: Milestone
    kind: NudgeKind
    label: str
    working_days: int  # left until the milestone, or overdue by


def is_met(
    action: Action, milestone: Milestone, *, done: bool, last_update_on: date | None
) -> bool:
    """Whether `milestone` needs no more nudging."""
    if done:
        return True
    if last_update_on is None or action.deadline is None:
        return False
    if milestone.final:
        return last_update_on >= milestone.on
    return last_update_on > action.deadline.window_start(milestone)


def due_nudges(
    action: Action,
    *,
    today: date,
    done: bool,
    last_update_on: date | None,
    rules: NudgeRules,
) -> list[Due]:
    """The nudges due about `action` today (none when it is done or has no deadline)."""
    deadline = action.deadline
    if done or deadline is None:
        return []
    found: list[Due] = []
    upcoming = deadline.next_on_or_after(today)
    if upcoming is not None and not is_met(
        action, upcoming, done=done, last_update_on=last_update_on
    ):
        left = working_days_between(today, upcoming.on)
        reached = [k for k in rules.offsets if left <= k]
        if reached:
            offset = min(reached)
            found.append(Due(action, upcoming, "before", f"before:{offset}", left))
    past = deadline.previous(today)
    if past is not None and not is_met(action, past, done=done, last_update_on=last_update_on):
        over = working_days_between(past.on, today)
        if rules.long_past(past.on, today):
            found.append(Due(action, past, "past", PAST, over))
            return found
        week = ((today - past.on).days - 1) // rules.overdue_every_days
        found.append(Due(action, past, "overdue", f"overdue:{week}", over))
        if over > rules.escalate_after_days:
            found.append(Due(action, past, "escalate", "escalate", over))
    return found
