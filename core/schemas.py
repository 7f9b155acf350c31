"""Base pydantic model: snake_case in Python, camelCase in JSON."""

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
)
from pydantic.alias_generators import to_camel

# Numeric(18, 4) holds values below 10**14.
AMOUNT_LIMIT = Decimal("1e14")

# A Numeric value that JSON answers carry as a number, not a string.
JsonNumber = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class CamelModel(BaseModel):
    """Reads either spelling, writes camelCase, accepts ORM objects."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class InputModel(CamelModel):
    """A request body: strips text, rejects unknown fields (typos get a 422 naming them)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


def json_ready(value):
    """Turn nested values into JSON-storable ones (decimals and UUIDs as text, dates ISO)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 60.0000 → "60", 73.3300 → "73.33", never "6E+1"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def as_uuid(ref: str) -> uuid.UUID | None:
    """Return `ref` as a UUID, or None when it is not one."""
    try:
        return uuid.UUID(str(ref))
    except ValueError:
        return None


def amount_field():
    """An optional Numeric(18, 4) amount field."""
    return Field(None, gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT)
