"""`edi-bot content check`: every file under content/ against its model, before anyone sees it.

The shell's files are described here; each feature lists its own in its `feature.py`
(`Feature.content`), and its `menu.yaml` is checked for it. A file no pattern claims is a
problem too (a misnamed file would otherwise be silently ignored), except the folder's README,
the app icons and the templates, which are compiled here and rendered by the card tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, TemplateSyntaxError
from pydantic import BaseModel

from bot.core.content import ContentError, load_model
from bot.core.registry import ContentFile, Feature, load

SHELL_FILES = (
    ContentFile("shell/text.yaml", "bot.core.content_models:ShellText"),
    ContentFile("shell/menu.yaml", "bot.core.content_models:ShellMenu"),
    ContentFile("shell/about_edi.yaml", "bot.core.content_models:AboutFile"),
    ContentFile("shell/smalltalk.yaml", "bot.core.content_models:SmallTalkFile"),
    ContentFile("shell/harm_words.yaml", "bot.core.content_models:HarmWordsFile"),
    ContentFile("teams/app.yaml", "bot.core.content_models:AppFile"),
)
FEATURE_MENU = "bot.core.content_models:FeatureMenu"
# Not data: the guide, the Teams app's icons (checked by `edi-bot manifest`), the styles
# templates include.
UNCHECKED = ("README.md", "teams/*.png", "**/*.css")
TEMPLATES = ("**/*.j2",)


@dataclass
class ContentReport:
    """What a check found: the files read, and one line per problem."""

    checked: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def content_files(features: Sequence[Feature]) -> list[ContentFile]:
    """The shell's files, then each feature's menu and declared files."""
    files = list(SHELL_FILES)
    for feature in features:
        files.append(ContentFile(f"{feature.name}/menu.yaml", FEATURE_MENU))
        files.extend(feature.content)
    return files


def _check_one(path: Path, check: str) -> None:
    target = load(check)
    if isinstance(target, type) and issubclass(target, BaseModel):
        load_model(path, target)
    else:
        target(path)


def _compile_templates(root: Path, report: ContentReport) -> set[Path]:
    """Every Jinja template parses (syntax errors name the file and line)."""
    environment = Environment(autoescape=False)
    seen: set[Path] = set()
    for pattern in TEMPLATES:
        for path in sorted(root.glob(pattern)):
            seen.add(path)
            report.checked.append(path)
            try:
                environment.parse(path.read_text(encoding="utf-8"))
            except TemplateSyntaxError as error:
                report.problems.append(f"{path} line {error.lineno}: {error.message}")
    return seen


def check_content(
    root: Path, features: Sequence[Feature], progress: Callable[[str], None] = lambda _: None
) -> ContentReport:
    """Check every content file under `root`; never raises for a content problem."""
    report = ContentReport()
    claimed = _compile_templates(root, report)
    for pattern in UNCHECKED:
        claimed.update(root.glob(pattern))
    for item in content_files(features):
        matches = sorted(root.glob(item.pattern))
        if not matches and "*" not in item.pattern:
            report.problems.append(f"{root / item.pattern}: missing")
        for path in matches:
            claimed.add(path)
            report.checked.append(path)
            try:
                _check_one(path, item.check)
            except ContentError as error:
                report.problems.extend(str(error).splitlines())
            progress(f"checked {path.relative_to(root)}")
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p not in claimed):
        report.problems.append(f"{path}: no feature reads this file (misnamed or misplaced?)")
    return report
