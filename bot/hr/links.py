"""The full HR report in Teams: a sealed, expiring link to one quarter's report for one person
holding `hr`, and the bundle it serves (the HTML report and every CSV, zipped).

The link is made in the chat for someone the server has just checked holds `hr` (dialogs/hr);
it names the quarter and the person, sealed (AES-256-GCM, its own context), and expires after
`LINK_MINUTES`. Opening it (GET /hr/report/<token>, bot/app.py) checks the role again, so a
link outlives nobody's access; each download is audited. The bundle is built from the frozen
quarter through the same disclosure step as every other release, so it shows exactly what the
card and `edi-bot report quarterly` show.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.config import Settings
from bot.core.people import PersonKey
from bot.hr.config import HrConfig
from bot.hr.quarters import Quarter
from bot.hr.report import write_csv, write_html
from bot.hr.service import QuarterReport
from bot.privacy.core import PrivacyCore
from bot.privacy.crypto import FieldCipher
from bot.privacy.link_tokens import LinkError, open_link, read_fields, seal_link

LINK_CONTEXT = "hr-report-download"
LINK_MINUTES = 15


# The same error as every sealed link's ("forged" or "expired").
ReportLinkError = LinkError


@dataclass(frozen=True)
class ReportLinks:
    """Makes and checks the sealed, expiring links to a quarter's full report."""

    cipher: FieldCipher
    base_url: str
    minutes: int = LINK_MINUTES

    def token(self, person: PersonKey, quarter: Quarter, *, now: datetime) -> str:
        """A sealed token for `person` to download `quarter`, valid for `minutes`."""
        fields = {"q": str(quarter), "t": person.tenant_id, "a": person.aad_object_id}
        return seal_link(self.cipher, LINK_CONTEXT, fields, now=now, minutes=self.minutes)

    def url(self, person: PersonKey, quarter: Quarter, *, now: datetime) -> str:
        """The link `person` opens."""
        return f"{self.base_url.rstrip('/')}/hr/report/{self.token(person, quarter, now=now)}"

    def check(self, token: str, *, now: datetime) -> tuple[PersonKey, Quarter]:
        """Who may download which quarter; ReportLinkError if forged, altered or expired."""
        fields = open_link(self.cipher, LINK_CONTEXT, token, now=now)
        found: tuple[PersonKey, Quarter] = read_fields(
            fields,
            lambda f: (PersonKey(str(f["t"]), str(f["a"])), Quarter.parse(str(f["q"]))),
        )
        return found


def report_links(settings: Settings, privacy: PrivacyCore) -> ReportLinks:
    """The links for this deployment (EDI_PUBLIC_BASE_URL, or the bot's own address)."""
    base = settings.public_base_url or f"http://{settings.host}:{settings.port}"
    return ReportLinks(privacy.cipher, base)


def bundle(report: QuarterReport, config: HrConfig, content_dir: Path) -> tuple[str, bytes]:
    """(file name, zip bytes): the quarter's HTML report and every CSV, as the CLI writes
    them, in one zip built in a private temporary folder that is removed afterwards."""
    name = f"edi-hr-report-{report.quarter}"
    with tempfile.TemporaryDirectory(prefix="edi-hr-") as folder:
        out = Path(folder)
        files = [*write_csv(report, out, progress=lambda _: None)]
        files.append(write_html(report, config, out, content_dir))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(files):
                archive.write(path, arcname=f"{name}/{path.name}")
    return f"{name}.zip", buffer.getvalue()
