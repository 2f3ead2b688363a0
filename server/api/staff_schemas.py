"""Request bodies of the admin's user and printer routes (server/api/user_routes.py)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from server.config import PrinterConfig

from .schemas import Body

# Over the web the server may write only to a printer's device file: an admin's browser must not make it write
# anywhere else. The CLI (`python -m server printer set`) may still name any path.
PRINTER_DEVICE = re.compile(r"^/dev/(usb/)?lp[0-9]{1,2}$")
HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:-]*$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Role = Annotated[str, Field(min_length=1, max_length=16, examples=["clerk"])]
Offices = Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=100)]
Password = Annotated[str, Field(max_length=200, description="At least 10 characters")]


class UserIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    role: Role
    offices: Offices = []
    password: Password

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value != value.strip():
            raise PydanticCustomError("name", "no spaces at the start or the end of the name")
        if CONTROL.search(value):
            raise PydanticCustomError("name", "the name must not contain control characters")
        return value


class UserPatch(Body):
    role: Role | None = None
    offices: Offices | None = None
    active: StrictBool | None = None

    @model_validator(mode="after")
    def _something(self):
        if self.role is None and self.offices is None and self.active is None:
            raise PydanticCustomError("empty", "give at least one of role, offices or active")
        return self


class PasswordIn(Body):
    password: Password


class PrinterIn(PrinterConfig):
    """A kiosk's printer as the admin page sets it: PrinterConfig, with each problem named by its field, USB ids
    also as hex text ("0x04b8" or "04b8", as lsusb shows them) and a file printer only at a printer device."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    @field_validator("host", "path", "profile", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return (value.strip() or None) if isinstance(value, str) else value

    @field_validator("vendor", "product", mode="before")
    @classmethod
    def _usb_id(cls, value):
        if not isinstance(value, str):
            return value
        text = value.strip().lower().removeprefix("0x")
        if not text:
            return None
        if not re.fullmatch(r"[0-9a-f]{1,4}", text):
            raise PydanticCustomError("usb_id", "a USB id is 4 hex digits, such as 0x04b8")
        return int(text, 16)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None, info: ValidationInfo):
        if value is not None and not HOST.fullmatch(value):
            raise PydanticCustomError("host", "the printer's IP address or host name, such as 192.168.1.50")
        if value is None and info.data.get("backend") == "network":
            raise PydanticCustomError("host", "a network printer needs host (its IP address or name)")
        return value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None, info: ValidationInfo):
        if value is not None and not PRINTER_DEVICE.fullmatch(value):
            raise PydanticCustomError("path", "over the web a printer file can only be a printer device such as "
                                              "/dev/usb/lp0 or /dev/lp0; set other paths with the CLI "
                                              "(python -m server printer set)")
        if value is None and info.data.get("backend") == "file":
            raise PydanticCustomError("path", "a file printer needs path (such as /dev/usb/lp0)")
        return value

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: str | None):
        from escpos.capabilities import get_profile_class

        if value is not None:
            try:
                get_profile_class(value)
            except Exception:
                raise PydanticCustomError("profile", "unknown printer profile '{name}' (python-escpos profiles "
                                                     "such as TM-T20II, TM-T88V, TSP600, RP-F10-80mm)",
                                          {"name": value[:64]}) from None
        return value
