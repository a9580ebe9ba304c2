"""The report's category lists (content/incidents/words.yaml): codes, labels and conditions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.incidents.models import IncidentReport


class Taxonomy:
    """The answer lists and limits in content/incidents/words.yaml."""

    SINGLE = ("location", "perpetrator", "frequency", "possible_crime")
    MULTI = ("motivations", "kinds")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.limits: dict[str, int] = {k: int(v) for k, v in data["limits"].items()}
        details = data["details"]
        self._labels: dict[str, dict[str, str]] = {
            name: {str(o["id"]): str(o["label"]) for o in details[name]["options"]}
            for name in (*self.SINGLE, *self.MULTI)
        }
        self._labels["mode"] = {o["id"]: o["label"] for o in data["modes"]["options"]}
        self._labels["relationship"] = {
            o["id"]: o["label"] for o in data["relationships"]["options"]
        }
        cases = data["cases"]
        self._labels["risk"] = {o["id"]: o["label"] for o in cases["risk"]}
        self._labels["classification"] = {o["id"]: o["label"] for o in cases["classification"]}
        self._labels["outcome"] = {o["id"]: o["label"] for o in cases["outcomes"]}
        self.outcome_needs: dict[str, str] = {
            o["id"]: o["needs"] for o in cases["outcomes"] if o.get("needs")
        }

    def codes(self, name: str) -> list[str]:
        """The codes of one list, in order."""
        return list(self._labels[name])

    def valid(self, name: str, code: object) -> bool:
        """Whether `code` is on the list `name`."""
        return isinstance(code, str) and code in self._labels[name]

    def label(self, name: str, code: str | None) -> str:
        """The words for a code (the code itself if the list no longer has it)."""
        if code is None:
            return ""
        return self._labels[name].get(code, code)

    def labels(self, name: str, codes: Iterable[str]) -> str:
        """Several codes' words, joined."""
        return "; ".join(self.label(name, code) for code in codes)


def codes_of(text: str | None) -> list[str]:
    return [code for code in (text or "").split(",") if code]


def categories_of(report: IncidentReport) -> dict[str, list[str]]:
    """The report's category codes, as lists."""
    return {"motivations": codes_of(report.motivations), "kinds": codes_of(report.kinds)}
