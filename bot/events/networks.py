"""The staff networks people can join, from content/events/networks.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.core.content import Content, ContentError

BIG_CONVERSATION = "big_conversation"
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


@dataclass(frozen=True)
class Network:
    """One staff network: its code (stored), name and description."""

    code: str
    name: str
    description: str


def load_networks(content: Content) -> dict[str, Network]:
    """Every network in content/events/networks.yaml, by code (ContentError if malformed)."""
    data: Any = content.data("events/networks")
    items = data.get("networks") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ContentError("networks.yaml: needs a list of networks")
    networks: dict[str, Network] = {}
    for item in items:
        code = str(item.get("code", "")) if isinstance(item, dict) else ""
        if not _CODE.match(code) or code == BIG_CONVERSATION or code in networks:
            raise ContentError(f"networks.yaml: bad or repeated network code {code!r}")
        networks[code] = Network(code, str(item["name"]), str(item.get("description", "")))
    return networks
