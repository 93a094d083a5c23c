"""One Settings class for the whole platform (prefix ``CHENGGUAN_``).

Every field is documented here and listed by ``chengguan settings``; the README points to it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev-secret-not-for-production"})
DEV_SECRET = "dev-secret-not-for-production"


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
    secret_key: str = Field(
        DEV_SECRET,
        description="Key that signs access tokens. Refused if it is a placeholder outside dev; "
        "use at least 32 random bytes, e.g. `python -c 'import secrets;print(secrets.token_urlsafe(48))'`.",
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
    demo_password: str = Field(
        "Demo@2026",
        description="Password given to every demo user by `chengguan demo` (documented in the README; "
        "never use the demo city in production).",
    )
    host: str = Field("127.0.0.1", description="Address `chengguan serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port `chengguan serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes for `chengguan serve`.")

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.env != "dev" and (self.secret_key in PLACEHOLDER_SECRETS or len(self.secret_key) < 32):
            raise ValueError(
                "CHENGGUAN_SECRET_KEY is a placeholder or shorter than 32 characters; "
                f"set a random secret before running with CHENGGUAN_ENV={self.env}"
            )
        ZoneInfo(self.timezone)  # raises on an unknown zone
        return self

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'chengguan.db').resolve()}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
