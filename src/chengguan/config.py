"""One Settings class for the whole platform (prefix ``CHENGGUAN_``).

Every field is documented here and listed by ``chengguan settings``; the README points to it.
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev-secret-not-for-production"})
SECRET_FILE = "secret.key"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHENGGUAN_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "production"] = Field(
        "dev",
        description="Deployment kind. Outside 'dev' a real secret key is required.",
    )
    data_dir: Path = Field(
        Path("var"),
        description="Directory for the embedded database, uploaded files, evidence, keys and the "
        "analytics lake. Created on first use.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the operational store. Default: SQLite file "
        "<data_dir>/chengguan.db. Production: postgresql+psycopg://user:pass@host/db.",
    )
    secret_key: str | None = Field(
        None,
        description="Key that signs access tokens; at least 32 characters, e.g. "
        "`python -c 'import secrets;print(secrets.token_urlsafe(48))'`. Required outside dev (a placeholder "
        "is refused); in dev, when unset, a random key is made once and kept in <data_dir>/secret.key.",
    )
    timezone: str = Field(
        "Asia/Shanghai",
        description="The city's time zone: working hours, calendars and reports are computed in it. "
        "Timestamps are stored in UTC.",
    )
    access_token_minutes: int = Field(15, ge=1, le=24 * 60, description="Lifetime of an access token.")
    refresh_token_days: int = Field(14, ge=1, le=90, description="Lifetime of a refresh token.")
    login_max_failures: int = Field(
        5, ge=1, description="Failed logins allowed per account in the window (four times as many per client address)."
    )
    login_window_minutes: int = Field(
        15, ge=1, description="Window for counting failed logins; the lockout lasts as long."
    )
    max_upload_mb: int = Field(20, ge=1, description="Largest accepted upload (imports, attachments).")
    evidence_max_mb: int = Field(
        500, ge=1, description="Largest accepted evidence file (video from body cameras is large)."
    )
    sth_interval_s: int = Field(
        600,
        ge=1,
        description="Seconds between scheduled signed tree heads of the evidence log (the worker issues one "
        "when the newest head is this old, grown or not, so witnesses always hold a fresh one).",
    )
    sweep_interval_s: int = Field(
        60,
        ge=1,
        description="Seconds between deadline sweeps of the worker (lights turn yellow/red, overdue cases get "
        "督办 and notifications).",
    )
    demo_password: str = Field(
        "Demo@2026",
        description="Password given to every demo user by `chengguan demo` (documented in the README; "
        "never use the demo city in production).",
    )
    auto_dispatch: bool = Field(
        True,
        description="Dispatch new events automatically by the responsibility list (自动派遣); off, every "
        "event waits for a dispatcher.",
    )
    document_font: Path | None = Field(
        None,
        description="TrueType font (.ttf/.ttc with TrueType outlines) embedded in 执法文书 PDFs; it must cover "
        "Chinese. Default: the first found of the WenQuanYi fonts (Debian package fonts-wqy-zenhei).",
    )
    document_font_index: int = Field(0, ge=0, description="Which font of a .ttc collection `document_font` means.")
    lake_dir: Path | None = Field(
        None,
        description="Directory of the analytics lake (Parquet, one folder per table and month) that "
        "`chengguan lake sync` writes and the analyses read. Default: <data_dir>/lake.",
    )
    lake_sync_interval_s: int = Field(
        900,
        ge=1,
        description="Seconds between the worker's incremental lake syncs (the analyses are this fresh).",
    )
    lake_settle_s: int = Field(
        60,
        ge=0,
        description="Seconds a change must be old before a lake sync exports it, so that a transaction that "
        "stamped its rows before a sync but committed after it is not skipped (the lake lags by this much).",
    )
    map_tiles_url: str | None = Field(
        None,
        description="Base map tiles for the command map, a Leaflet URL template such as "
        "https://tiles.example.gov.cn/{z}/{x}/{y}.png (the city's own tile server, or 天地图 with its key). "
        "Unset: the map draws the city from its own district, street and grid geometry (works offline).",
    )
    map_tiles_attribution: str = Field("", description="Credit line shown under the base tiles (e.g. 天地图).")
    host: str = Field("127.0.0.1", description="Address `chengguan serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `chengguan serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes for `chengguan serve`.")

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        key = self.secret_key or ""
        if self.env != "dev" and (key in PLACEHOLDER_SECRETS or len(key) < 32):
            raise ValueError(
                "CHENGGUAN_SECRET_KEY is a placeholder or shorter than 32 characters; "
                f"set a random secret before running with CHENGGUAN_ENV={self.env}"
            )
        ZoneInfo(self.timezone)  # raises on an unknown zone
        return self

    @cached_property
    def signing_key(self) -> str:
        """The configured secret, or in dev this installation's own random one (made once)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / SECRET_FILE
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'chengguan.db').resolve()}"

    @property
    def lake_path(self) -> Path:
        return self.lake_dir or self.data_dir / "lake"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
