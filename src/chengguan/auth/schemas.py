from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chengguan.auth.roles import Role


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class UserIn(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@\-]+$")
    display_name: str = Field(min_length=1, max_length=100)
    kind: Literal["person", "system"] = "person"
    password: str | None = Field(None, max_length=128)
    org_id: int | None = None
    roles: list[Role] = Field(min_length=1)
    phone: str | None = Field(None, max_length=32, pattern=r"^[0-9+\- ]*$")
    email: str | None = Field(None, max_length=120)


class UserPatch(BaseModel):
    display_name: str | None = Field(None, min_length=1, max_length=100)
    password: str | None = Field(None, max_length=128)
    org_id: int | None = None
    roles: list[Role] | None = Field(None, min_length=1)
    phone: str | None = Field(None, max_length=32, pattern=r"^[0-9+\- ]*$")
    email: str | None = Field(None, max_length=120)
    active: bool | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    kind: str
    org_id: int | None
    roles: list[Role]
    phone: str | None
    email: str | None
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str
    kind: str
    org_id: int | None
    roles: list[Role]
    permissions: list[str]


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expires_at: dt.datetime | None = None


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    prefix: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class NewApiKeyOut(ApiKeyOut):
    key: str = Field(description="shown once; store it now")
