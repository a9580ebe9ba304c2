"""The staff networks people can join, from content/events/networks.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.content import Content, load_model
from bot.events.event_files import BIG_CONVERSATION, NetworksFile

__all__ = ["BIG_CONVERSATION", "Network", "load_networks"]


@dataclass(frozen=True)
class Network:
    """One staff network: its code (stored), name and description."""

    code: str
    name: str
    description: str


def load_networks(content: Content) -> dict[str, Network]:
    """Every network in content/events/networks.yaml, by code (ContentError, with the line,
    if malformed)."""
    written = load_model(content.root / "events" / "networks.yaml", NetworksFile)
    return {n.code: Network(n.code, n.name, n.description) for n in written.networks}
