"""OCPI 2.2.1 Token (mod_tokens.asciidoc, 'Token object') as partners send it, and its table.

The whole object is kept as the partner sent it (JSON text) next to the columns Authorize and
the session tagging look up: uid, type, validity, whitelist, group.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chargegrid.platform.db_types import UtcDateTime
from chargegrid.roaming.models import Base


class TokenType(StrEnum):
    AD_HOC_USER = "AD_HOC_USER"
    APP_USER = "APP_USER"
    OTHER = "OTHER"
    RFID = "RFID"


class WhitelistType(StrEnum):
    ALWAYS = "ALWAYS"
    ALLOWED = "ALLOWED"
    ALLOWED_OFFLINE = "ALLOWED_OFFLINE"
    NEVER = "NEVER"


class ProfileType(StrEnum):
    CHEAP = "CHEAP"
    FAST = "FAST"
    GREEN = "GREEN"
    REGULAR = "REGULAR"


class EnergyContract(BaseModel):
    supplier_name: str = Field(max_length=64)
    contract_id: str | None = Field(default=None, max_length=64)


class OcpiToken(BaseModel):
    """A Token object; unknown fields are ignored, as OCPI asks of receivers."""

    model_config = ConfigDict(extra="ignore")
    country_code: str = Field(min_length=2, max_length=2)
    party_id: str = Field(min_length=3, max_length=3)
    uid: str = Field(min_length=1, max_length=36)
    type: TokenType
    contract_id: str = Field(min_length=1, max_length=36)
    visual_number: str | None = Field(default=None, max_length=64)
    issuer: str = Field(max_length=64)
    group_id: str | None = Field(default=None, max_length=36)
    valid: bool
    whitelist: WhitelistType
    language: str | None = Field(default=None, max_length=2)
    default_profile_type: ProfileType | None = None
    energy_contract: EnergyContract | None = None
    last_updated: datetime


class PartnerTokenRow(Base):
    __tablename__ = "partner_tokens"

    country_code: Mapped[str] = mapped_column(String(2), primary_key=True)
    party_id: Mapped[str] = mapped_column(String(3), primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    type: Mapped[str] = mapped_column(String(16), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    valid: Mapped[bool] = mapped_column(Boolean)
    whitelist: Mapped[str] = mapped_column(String(16))
    group_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    #: The Token object as last received (JSON).
    body: Mapped[str] = mapped_column(Text)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
