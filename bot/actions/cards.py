"""Action plans' cards: a lead's digest of what is due, and the board's escalation."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.actions.base import ActionsBase
from bot.actions.nudges import Due
from bot.actions.plans import Action
from bot.actions.records import (
    RAGS,
    LeadIndex,
    day_text,
    shorten,
)
from bot.actions.repo import ActionStateRow


class ActionCards(ActionsBase):
    """Builds the nudge and escalation cards from content templates."""

    def digest_card(
        self, dues: list[Due], states: dict[tuple[str, str], ActionStateRow], today: date
    ) -> dict[str, Any]:
        """The one card a lead gets per run, every due or overdue action on it."""
        words = self.words
        limit = int(words["limits"]["items_per_card"])
        by_action: dict[str, list[Due]] = {}
        for due in dues:  # an action due soon and with a missed check-in is one item
            if due.kind != "escalate":
                by_action.setdefault(due.action.key, []).append(due)
        items = []
        for slot, grouped in enumerate(list(by_action.values())[:limit]):
            action = grouped[0].action
            state = states.get((action.plan, action.number))
            status = (state.rag if state else None) or "no_update"
            when = " · ".join(self._when(due, today) for due in grouped)
            items.append(self.card_item(action, f"s{slot}", when, words["statuses"][status]))
        more = len(by_action) - len(items)
        return self._content.card(
            "action_digest",
            heading=words["digest"]["heading"],
            intro=words["digest"]["intro"],
            items=items,
            more=words["digest"]["more"].format(count=more) if more > 0 else "",
            words=self.card_words(today),
        )

    def card_words(self, today: date) -> dict[str, Any]:
        """The labels the action cards use."""
        buttons = dict(self.words["buttons"])
        buttons["rag"] = [{"title": self.words["rag"][r], "value": r} for r in RAGS]
        buttons["note_chars"] = int(self.words["limits"]["note_chars"])
        buttons["min_date"] = (today + timedelta(days=1)).isoformat()
        return buttons

    def card_item(self, action: Action, slot: str, when: str, status: str) -> dict[str, Any]:
        """One action on a card, with its buttons' data."""
        ids = {"plan": action.plan, "number": action.number}
        return {
            "slot": slot,
            "title": f"{action.number} {shorten(action.text, 200)}",
            "plan": f"{action.plan} · {'; '.join(action.leads)}",
            "when": when,
            "status": self.words["digest"]["status"].format(status=status),
            "done": {"command": "action done", **ids},
            "progress": {"command": "action progress", "slot": slot, **ids},
            "snooze_week": {"command": "action snooze", "days": 7, **ids},
            "snooze_until": {"command": "action snooze", "slot": slot, **ids},
            "not_mine": {"command": "action not mine", **ids},
        }

    def _when(self, due: Due, today: date) -> str:
        words = self.words["digest"]
        day = day_text(due.milestone.on)
        if due.kind != "before":
            return self.passed_text(due.milestone, due.working_days, today)
        if due.working_days == 0:
            return str(words["due_today"].format(day=day))
        if not due.milestone.final:
            return str(words["check_in"].format(day=day, days=due.working_days))
        key = "due_tomorrow" if due.working_days == 1 else "due_in"
        return str(words[key].format(day=day, days=due.working_days))

    def board_card(
        self,
        escalated: list[Due],
        past: list[Due],
        index: LeadIndex,
        states: dict[tuple[str, str], ActionStateRow],
    ) -> tuple[dict[str, Any], str]:
        """The board chair's one card of a run, and its summary: each action escalated, and
        one count per plan of the actions long past (not one item each)."""
        words = self.words
        per_plan: dict[str, list[str]] = {}
        for due in past:
            numbers = per_plan.setdefault(due.action.plan, [])
            if due.action.number not in numbers:
                numbers.append(due.action.number)
        lines = [
            words["past"]["line"].format(
                count=len(numbers),
                plan=plan,
                weeks=self.rules.reminder_weeks,
                numbers=", ".join(numbers),
            )
            for plan, numbers in sorted(per_plan.items())
        ]
        if past:
            lines.append(words["past"]["how"])
        past_count = sum(len(numbers) for numbers in per_plan.values())
        if escalated:
            heading = words["escalation"]["heading"]
            intro = words["escalation"]["intro"].format(days=self.rules.escalate_after_days)
            summary = words["escalation"]["summary"].format(count=len(escalated))
            if past:
                summary += words["past"]["and_summary"].format(count=past_count)
        else:
            heading, intro = words["past"]["heading"], ""
            summary = words["past"]["summary"].format(count=past_count)
        card = self._content.card(
            "action_escalation",
            heading=heading,
            intro=intro,
            items=[self._escalation_item(d, index, states) for d in escalated],
            past=lines,
        )
        return card, summary

    def _escalation_item(
        self, due: Due, index: LeadIndex, states: dict[tuple[str, str], ActionStateRow]
    ) -> dict[str, Any]:
        words = self.words
        action = due.action
        state = states.get((action.plan, action.number))
        status = (state.rag if state else None) or "no_update"
        return {
            "title": words["escalation"]["line"].format(
                plan=action.plan, number=action.number, text=shorten(action.text, 160)
            ),
            "facts": [
                {
                    "title": words["escalation"]["facts_due"],
                    "value": words["digest"]["overdue"].format(
                        day=day_text(due.milestone.on), days=due.working_days
                    ),
                },
                {"title": words["escalation"]["facts_leads"], "value": "; ".join(action.leads)},
                {"title": words["escalation"]["facts_status"], "value": words["statuses"][status]},
            ],
        }
