"""The one settings object: every `EDI_` environment variable, loaded once and passed down."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "content"


class AppType(StrEnum):
    """How the bot's Entra ID (Azure AD) app registration signs in."""

    SINGLE_TENANT = "SingleTenant"
    MULTI_TENANT = "MultiTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


class Settings(BaseSettings):
    """All configuration, from `EDI_*` environment variables and an optional `.env` file."""

    model_config = SettingsConfigDict(
        env_prefix="EDI_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/edi-bot.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    app_id: str = Field(default="", description="Bot's Microsoft App ID; empty = development mode")
    app_password: SecretStr = Field(default=SecretStr(""), description="Bot's client secret")
    app_type: AppType = AppType.SINGLE_TENANT
    app_tenant_id: str = Field(default="", description="Home tenant of a SingleTenant/MSI app")
    allowed_tenants: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated tenant ids whose activities are accepted; empty = any (dev)",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=3978, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    max_body_bytes: int = Field(
        default=256 * 1024, ge=4096, description="Largest accepted request body on /api/messages"
    )
    content_dir: Path = DEFAULT_CONTENT_DIR
    turn_attempts: int = Field(
        default=3, ge=1, le=10, description="Retries of a turn that lost a race on its state"
    )
    encryption_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated KEYID:BASE64 AES-256 keys; the first encrypts, all decrypt",
    )
    pseudonym_key: SecretStr = Field(
        default=SecretStr(""), description="BASE64 key (32+ bytes) for keyed pseudonyms (HMAC)"
    )
    keys_file: Path = Field(
        default=Path("var/keys.json"),
        description="Development mode only: where locally generated keys are kept",
    )
    bootstrap_admins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated Entra object ids or UPNs who always hold the admin role",
    )
    openid_metadata_url: str | None = Field(
        default=None,
        description="Override of the Bot Framework OpenID metadata URL (sovereign clouds, tests)",
    )
    retention_drafts_days: int = Field(
        default=30, ge=1, description="Unfinished conversations (drafts) are deleted after this"
    )
    retention_audit_years: int = Field(
        default=7, ge=1, description="Audit entries are deleted this many years after writing"
    )
    retention_incidents_years: int = Field(
        default=6, ge=1, description="Closed incident reports are deleted this many years after"
    )
    incident_sweep_minutes: int = Field(
        default=60,
        ge=5,
        le=1440,
        description="How often (give or take a random quarter) waiting anonymous reports "
        "are released when due, case handlers are told of new reports, and deadline "
        "reminders are checked",
    )
    evidence_max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=50 * 1024 * 1024,
        description="Largest evidence file (image, PDF, text) a person may send with a report",
    )
    evidence_max_files: int = Field(
        default=5, ge=1, le=20, description="Most evidence files one report may hold"
    )
    evidence_download_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*.sharepoint.com", "*.sharepoint-df.com"],
        description="Hosts Teams file download links may point at (https; '*.' for any "
        "subdomain; 'http://HOST:PORT' to allow one plain-http origin, for tests)",
    )
    evidence_fetch_timeout_seconds: float = Field(
        default=30.0, gt=0, le=300, description="Time allowed to fetch one evidence file"
    )
    outbox_worker: bool = Field(
        default=True, description="Run the outbox worker inside `edi-bot serve`"
    )
    outbox_rate_per_second: float = Field(
        default=30.0,
        gt=0,
        le=50,
        description="Proactive sends per second, all replicas together (Teams allows 50)",
    )
    outbox_concurrency: int = Field(
        default=8, ge=1, le=100, description="Proactive sends in flight at once per process"
    )
    outbox_batch_size: int = Field(
        default=200, ge=1, le=5000, description="Deliveries a worker claims at a time"
    )
    outbox_lease_seconds: float = Field(
        default=120.0, ge=5, description="How long a claim lasts before another worker may take it"
    )
    outbox_max_attempts: int = Field(
        default=8, ge=1, le=50, description="Attempts per delivery before it is marked failed"
    )
    outbox_backoff_seconds: float = Field(
        default=2.0, gt=0, description="First retry delay; doubles per attempt, with jitter"
    )
    outbox_backoff_max_seconds: float = Field(
        default=600.0, gt=0, description="Longest retry delay (Retry-After is honoured as sent)"
    )
    outbox_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often an idle worker looks for due deliveries"
    )
    outbox_send_timeout_seconds: float = Field(
        default=15.0, gt=0, description="Time allowed for one POST to the Bot Connector"
    )
    retention_outbox_days: int = Field(
        default=90, ge=1, description="Finished proactive messages are deleted after this"
    )
    retention_bulletin_months: int = Field(
        default=24, ge=1, description="Bulletin reach and feedback are deleted after this"
    )

    declaration_review_days: int = Field(
        default=365,
        ge=30,
        description="People are prompted to review their equality information this long after",
    )

    hr_min_count: int = Field(
        default=10,
        ge=1,
        description="HR reports show counts below this as '<N' (ONS 10-5 rule: 10)",
    )
    hr_rounding: int = Field(
        default=5, ge=1, description="HR reports round other counts to a multiple of this (5)"
    )
    hr_min_denominator: int = Field(
        default=23, ge=1, description="HR reports hide a percentage of fewer people (HESA: 23)"
    )
    hr_min_candidates: int = Field(
        default=3,
        ge=2,
        description="A hidden small count must keep at least this many possible values",
    )
    hr_max_noise: int = Field(
        default=5,
        ge=0,
        le=50,
        description="HR counts get cell-key noise of up to this many before rounding (5)",
    )
    hr_allow_weaker_disclosure: bool = Field(
        default=False,
        description="Allow HR thresholds below the ONS/HESA rules (only with the DPO's agreement)",
    )

    teams_app_version: str = Field(
        default="",
        pattern=r"^(\d+\.\d+\.\d+)?$",
        description="Version in the Teams app package (raise it each upload); empty = edi-bot's",
    )
    teams_website_url: str = Field(
        default="https://www.leicestershire.gov.uk",
        description="Developer website in the Teams app package (https)",
    )
    teams_privacy_url: str = Field(
        default="", description="Privacy notice in the Teams app package (https); required there"
    )
    teams_terms_url: str = Field(
        default="", description="Terms of use in the Teams app package (https); required there"
    )
    teams_valid_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated domains whose pages Teams may open inside the app",
    )

    public_base_url: str = Field(
        default="",
        description="The bot's public https address (calendar and my-data download links); "
        "empty = http://HOST:PORT",
    )
    event_claim_hours: int = Field(
        default=24,
        ge=1,
        le=168,
        description="How long a person offered a freed event place has to claim it",
    )

    actions_nudge_plans: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["2022-23"],
        description="Comma-separated action plans (content/action_plans) whose leads are nudged",
    )
    actions_nudge_offsets: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [30, 14, 7, 1],
        description="Working days before each action milestone on which its leads are nudged",
    )
    actions_overdue_every_days: int = Field(
        default=7, ge=1, le=90, description="Days between nudges about an overdue action"
    )
    actions_escalate_after_days: int = Field(
        default=10,
        ge=1,
        description="Working days overdue after which an action goes to the board_chair role",
    )
    actions_annual_review: str = Field(
        default="06-30",
        pattern=r"^\d{2}-\d{2}$",
        description='MM-DD: the yearly milestone of actions due "Annually"',
    )
    actions_working_hours: str = Field(
        default="09:00-17:00",
        pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$",
        description="Europe/London hours within which nudges are queued (working days only)",
    )

    # The pattern check across incident reports (docs/incidents.md, "Patterns across
    # reports"): off until the DPO turns it on after the DPIA (docs/privacy.md).
    patterns_enabled: bool = Field(
        default=False,
        description="Offer a reporter who names a colleague or manager a pattern check, and "
        "tell case handlers when two reports name the same person; off: never asked, "
        "nothing stored",
    )
    patterns_unmatched_years: int = Field(
        default=3,
        ge=1,
        le=10,
        description="A pattern-check entry no other report has matched is deleted this many "
        "years after it was made (a matched one goes with its report)",
    )

    @field_validator("allowed_tenants", "bootstrap_admins", mode="before")
    @classmethod
    def _split_tenants(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("actions_nudge_plans", "actions_nudge_offsets", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("actions_nudge_offsets")
    @classmethod
    def _offsets_in_range(cls, value: list[int]) -> list[int]:
        if not value or any(not 0 <= offset <= 250 for offset in value):
            raise ValueError("give one or more offsets, each 0 to 250 working days")
        return value

    @field_validator("teams_valid_domains", "evidence_download_hosts", mode="before")
    @classmethod
    def _split_domains(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def development_mode(self) -> bool:
        """True when no app id is set: Bot Framework authentication is off."""
        return not self.app_id

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite default (or another SQLite file)."""
        return self.database_url.startswith("sqlite")

    def production_problems(self) -> list[str]:
        """What production mode needs and lacks, as short sentences; empty when ready."""
        if self.development_mode:
            return []
        problems: list[str] = []
        needs_secret = self.app_type in (AppType.SINGLE_TENANT, AppType.MULTI_TENANT)
        if needs_secret and not self.app_password.get_secret_value():
            problems.append(f"EDI_APP_PASSWORD is required for EDI_APP_TYPE={self.app_type}")
        needs_tenant = self.app_type in (AppType.SINGLE_TENANT, AppType.USER_ASSIGNED_MSI)
        if needs_tenant and not self.app_tenant_id:
            problems.append(f"EDI_APP_TENANT_ID is required for EDI_APP_TYPE={self.app_type}")
        if not self.allowed_tenants:
            problems.append("EDI_ALLOWED_TENANTS must list the tenant ids the bot serves")
        if self.is_sqlite:
            problems.append("EDI_DATABASE_URL must point at PostgreSQL (postgresql+asyncpg://...)")
        if not self.encryption_keys.get_secret_value():
            problems.append("EDI_ENCRYPTION_KEYS is required (edi-bot keys generate makes one)")
        if not self.pseudonym_key.get_secret_value():
            problems.append("EDI_PSEUDONYM_KEY is required (edi-bot keys generate makes one)")
        return problems
