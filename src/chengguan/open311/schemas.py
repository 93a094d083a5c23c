"""GeoReport v2 documents, field for field and in the spec's order (the XML keeps it)."""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator

from chengguan.intake.schemas import MAX_TEXT

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
NAME_PART = 31  # first and last name, with a space between, fit the report's 64 characters


class RequestIn(BaseModel):
    """The plain fields of a POST (attributes come separately); an empty field counts as absent."""

    service_code: str = Field(min_length=1, max_length=8)
    lat: float | None = Field(None, ge=-90, le=90)
    long: float | None = Field(None, ge=-180, le=180)
    address_string: str | None = Field(None, max_length=300)
    address_id: str | None = Field(None, max_length=64)
    description: str | None = Field(None, max_length=MAX_TEXT)
    media_url: str | None = Field(None, max_length=1000)
    email: str | None = Field(None, max_length=254)
    first_name: str | None = Field(None, max_length=NAME_PART)
    last_name: str | None = Field(None, max_length=NAME_PART)
    phone: str | None = Field(None, max_length=32)
    device_id: str | None = Field(None, max_length=128)
    account_id: str | None = Field(None, max_length=128)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v.strip() if isinstance(v, str) else v for k, v in data.items() if not _blank(v)}
        return data

    @field_validator("media_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("not an http(s) URL / 应为 http(s) 网址")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
            raise ValueError("not an email address / 邮箱地址无效")
        return value

    @field_validator("phone")
    @classmethod
    def _phone_digits(cls, value: str | None) -> str | None:
        """Kept as the report keeps phones: digits, +, - and spaces (brackets and dots dropped)."""
        if value is not None:
            value = re.sub(r"[().]", "", value).strip()
            if not re.fullmatch(r"\+?[0-9][0-9\- ]*", value):
                raise ValueError("not a phone number / 电话号码无效")
        return value

    @property
    def reporter_name(self) -> str | None:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class ServiceOut(BaseModel):
    service_code: str
    service_name: str
    description: str | None
    metadata: bool
    type: Literal["realtime", "batch", "blackbox"]
    keywords: str | None
    group: str | None


class ValueOut(BaseModel):
    key: str
    name: str


class AttributeOut(BaseModel):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[ValueOut]


class ServiceDefinitionOut(BaseModel):
    service_code: str
    attributes: list[AttributeOut]


class CreatedOut(BaseModel):
    """Exactly one of the id (an event exists) and the token (a clerk decides first)."""

    service_request_id: str | None = None
    token: str | None = None
    service_notice: str | None = None


class TokenOut(BaseModel):
    service_request_id: str | None = Field(None, description="absent while a clerk has not decided")
    token: str


class RequestOut(BaseModel):
    service_request_id: str
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str | None
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class EndpointOut(BaseModel):
    specification: str = SPECIFICATION
    url: str
    changeset: str
    type: Literal["production", "test"]
    formats: list[str]


class DiscoveryOut(BaseModel):
    changeset: str
    contact: str
    key_service: str
    endpoints: list[EndpointOut]


class ErrorOut(BaseModel):
    code: int
    description: str
