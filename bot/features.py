"""FEATURES: the one list the app, CLI, scheduler and privacy core iterate.

Adding a feature means its package (with a `feature.py`), one line here, its dialogs and its
content. The order is the order of exports, erasure counts, retention rules and rotation.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from bot.actions.feature import ACTIONS
from bot.bulletins.feature import BULLETINS
from bot.core.registry import Feature
from bot.declarations.feature import DECLARATIONS
from bot.events.feature import EVENTS
from bot.hr.feature import HR
from bot.incidents.feature import INCIDENTS
from bot.records.feature import RECORDS

if TYPE_CHECKING:
    from sqlalchemy import MetaData

FEATURES: tuple[Feature, ...] = (INCIDENTS, RECORDS, DECLARATIONS, BULLETINS, EVENTS, ACTIONS, HR)


def metadata() -> MetaData:
    """The whole schema: the core tables and every feature's (importing their models)."""
    from bot.db.models import Base
    from bot.outbox import models as outbox_models  # noqa: F401 - the outbox's tables
    from scheduler import models as job_models  # noqa: F401 - the jobs' run records

    for feature in FEATURES:
        importlib.import_module(feature.models)
    return Base.metadata
