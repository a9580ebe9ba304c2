"""Loads the words, menu and card templates in content/ and fills them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined

# Teams refuses a message over 100 KB (HTTP 413); keep every card well under it.
MAX_CARD_BYTES = 80 * 1024


class ContentError(ValueError):
    """A content file is missing, malformed, or lacks a key the code asks for."""


def _to_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def load_yaml(path: Path) -> Any:
    """Parse one YAML file of content, naming the file in any error."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as error:
        raise ContentError(f"{path}: {error}") from error


class Texts:
    """Sentences from text.yaml, looked up by dotted key and filled by name."""

    def __init__(self, tree: Mapping[str, Any]) -> None:
        self._tree = tree

    def __call__(self, key: str, **fields: object) -> str:
        """The sentence at `key` (e.g. "shell.cancelled") with `{name}` fields filled."""
        node: Any = self._tree
        for part in key.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise ContentError(f"text.yaml has no {key!r}")
            node = node[part]
        if not isinstance(node, str):
            raise ContentError(f"text.yaml {key!r} is not a sentence")
        return node.format(**fields) if fields else node


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """One feature on the welcome card."""

    command: str
    words: tuple[str, ...]
    title: str
    description: str
    role: str | None = None
    # Reached from a card's button only (e.g. "add to report"): not listed on the menu.
    hidden: bool = False


class Content:
    """Everything under content/, loaded lazily and cached for the process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._templates = Environment(
            loader=FileSystemLoader(root / "cards"),
            finalize=_to_json,
            autoescape=False,
            undefined=StrictUndefined,
            keep_trailing_newline=False,
        )
        self._data_cache: dict[str, Any] = {}

    @cached_property
    def texts(self) -> Texts:
        """The bot's sentences."""
        return Texts(load_yaml(self.root / "text.yaml"))

    @cached_property
    def menu(self) -> dict[str, Any]:
        """The welcome card's title, intro, tips and entries."""
        data = load_yaml(self.root / "menu.yaml")
        if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
            raise ContentError(f"{self.root / 'menu.yaml'}: needs a list of entries")
        return data

    def menu_entries(self) -> list[MenuEntry]:
        """Every entry of menu.yaml, in order."""
        return [
            MenuEntry(
                command=str(item["command"]),
                words=tuple(str(word) for word in item.get("words", [])),
                title=str(item["title"]),
                description=str(item["description"]),
                role=str(item["role"]) if item.get("role") else None,
                hidden=bool(item.get("hidden", False)),
            )
            for item in self.menu["entries"]
        ]

    def data(self, name: str) -> Any:
        """Another YAML file of content, e.g. data("about_edi"), read once."""
        if name not in self._data_cache:
            self._data_cache[name] = load_yaml(self.root / f"{name}.yaml")
        return self._data_cache[name]

    def card(self, template: str, **values: object) -> dict[str, Any]:
        """Fill cards/<template>.json.j2 and return the Adaptive Card as a dict."""
        rendered = self._templates.get_template(f"{template}.json.j2").render(**values)
        try:
            card = json.loads(rendered)
        except json.JSONDecodeError as error:
            raise ContentError(
                f"cards/{template}.json.j2 rendered invalid JSON: {error}"
            ) from error
        if len(rendered.encode("utf-8")) > MAX_CARD_BYTES:
            raise ContentError(f"cards/{template}.json.j2 rendered over {MAX_CARD_BYTES} bytes")
        if not isinstance(card, dict):
            raise ContentError(f"cards/{template}.json.j2 is not a card object")
        return card
