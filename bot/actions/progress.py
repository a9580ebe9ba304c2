"""Where each action stands: done, its RAG status, what is overdue, and the plan's summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from bot.actions.deadlines import Milestone
from bot.actions.nudges import is_met
from bot.actions.plans import Action, Plan
from bot.actions.repo import ActionStateRow
from bot.core.clock import working_days_between

STATUS_ORDER = ("done", "green", "amber", "red", "no_update")
_EMPTY = ActionStateRow(None, None, None, None, None, None)


@dataclass(frozen=True)
class ActionStatus:
    """One action's standing on a day."""

    action: Action
    state: ActionStateRow
    status: str  # one of STATUS_ORDER
    next_milestone: Milestone | None
    overdue_since: Milestone | None
    overdue_days: int  # working days

    @property
    def overdue(self) -> bool:
        """True when a deadline or check-in has passed unmet."""
        return self.overdue_since is not None


def status_of(action: Action, state: ActionStateRow | None, *, today: date) -> ActionStatus:
    """Where `action` stands on `today`."""
    state = state or _EMPTY
    done = state.done_on is not None
    status = "done" if done else (state.rag or "no_update")
    deadline = action.deadline
    upcoming = deadline.next_on_or_after(today) if deadline and not done else None
    past = deadline.previous(today) if deadline and not done else None
    if past is not None and is_met(action, past, done=done, last_update_on=state.last_update_on):
        past = None
    days = working_days_between(past.on, today) if past is not None else 0
    return ActionStatus(action, state, status, upcoming, past, days)


def plan_statuses(
    plan: Plan, states: dict[tuple[str, str], ActionStateRow], *, today: date
) -> list[ActionStatus]:
    """Every action of `plan`, in plan order (a closed plan as it stood the day it closed)."""
    on = plan.as_of(today)
    return [
        status_of(action, states.get((plan.id, action.number)), today=on)
        for action in plan.actions.values()
    ]


def summary_counts(statuses: list[ActionStatus]) -> dict[str, int]:
    """How many actions per status, plus "overdue" and "total"."""
    counts = Counter(s.status for s in statuses)
    result = {name: counts.get(name, 0) for name in STATUS_ORDER}
    result["overdue"] = sum(1 for s in statuses if s.overdue)
    result["total"] = len(statuses)
    return result
