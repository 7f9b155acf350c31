"""Base pydantic models and the one input policy: snake_case in Python, camelCase in JSON.

The input policy (README "Input policy") holds for every request body, query and path value and
for the UI's forms (`check_text` and the limits below):

- text never holds NUL, other control characters or lone surrogates; line breaks (and tabs) only
  in text that is multi-line by nature (`MultiLine`: notes, bodies, findings, descriptions);
  names, subjects, emails and ids are `SingleLine`; every text field has a maximum length;
- numbers are finite and within their documented bounds (`Amount`);
- days lie from `EARLIEST_DAY` to `LATEST_DAY` (`Day`); moments from 2000-01-01 to a little
  ahead of now (`ObservedAt`: a day, `HappenedAt`: five minutes);
- offsets and limits are bounded (`Offset`).
"""

import enum
import math
import re
import typing
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError, core_schema

# Numeric(18, 4) holds values below 10**14.
AMOUNT_LIMIT = Decimal("1e14")

# A Numeric value that JSON answers carry as a number, not a string.
JsonNumber = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]

# Text limits shared by the API's models and the UI's forms (same field, same limit).
ID_LENGTH = 128
EMAIL_LENGTH = 254
NAME_LENGTH = 200
NOTE_LENGTH = 2000
TEXT_LENGTH = 5000

EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
MAX_OFFSET = 100_000
MAX_JSON_DEPTH = 10

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BREAK = re.compile(r"[\t\n\r\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def text_problem(value: str, *, multi_line: bool = False) -> str | None:
    """Return what breaks the text policy in `value`, in plain words, or None."""
    if "\x00" in value:
        return "must not contain a NUL character"
    if _SURROGATE.search(value):
        return "must be valid Unicode text (it holds a lone surrogate)"
    if not multi_line and _BREAK.search(value):
        return "must be a single line"
    if _CONTROL.search(value):
        return "must not contain control characters"
    return None


def check_text(
    label: str, value: str | None, *, max_length: int, multi_line: bool = False
) -> str | None:
    """Return '<label>: <problem>' when a form's text breaks the policy or its limit, else None."""
    if value is None:
        return None
    problem = text_problem(value, multi_line=multi_line)
    if problem is None and len(value) > max_length:
        problem = f"must be at most {max_length:,} characters (it has {len(value):,})"
    return f"{label}: {problem}" if problem else None


@dataclass(frozen=True)
class TextPolicy:
    """Marks a text type and checks its values (single-line unless `multi_line`)."""

    multi_line: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def check(self, value: str) -> str:
        problem = text_problem(value, multi_line=self.multi_line)
        if problem:
            raise PydanticCustomError("text_policy", problem)
        return value


# Names, subjects, emails, ids, keys, search text: one line.
SingleLine = Annotated[str, TextPolicy(multi_line=False)]
# Notes, bodies, findings, descriptions, comments: line breaks and tabs allowed.
MultiLine = Annotated[str, TextPolicy(multi_line=True)]


def _tidy_decimal(value: Decimal) -> Decimal:
    # Numeric columns keep at most 4 places; 12 keeps the value and bounds the exponent.
    return value.quantize(Decimal("1e-12")) if value.as_tuple().exponent < -12 else value


# A finite number a Numeric(18, 4) column holds.
Amount = Annotated[
    Decimal,
    Field(gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT, allow_inf_nan=False),
    AfterValidator(_tidy_decimal),
]

# A calendar day within the sane window (plans, due dates, filters).
Day = Annotated[
    date,
    Field(
        ge=EARLIEST_DAY,
        le=LATEST_DAY,
        description=f"From {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}",
    ),
]


def _between_2000_and(ahead: timedelta, too_late: str) -> AfterValidator:
    """Check a moment lies from 2000-01-01 to `ahead` of now (compared in UTC, never converted)."""

    def check(value: datetime) -> datetime:
        if value < EARLIEST_MOMENT:
            raise PydanticCustomError("too_early", "must not be before 2000-01-01")
        if value > datetime.now(UTC) + ahead:
            raise PydanticCustomError("too_late", too_late)
        return value

    return AfterValidator(check)


# When an observation was made: from 2000-01-01 to at most a day ahead, with a UTC offset.
ObservedAt = Annotated[
    AwareDatetime,
    Field(description="ISO 8601 with a UTC offset; from 2000-01-01 to at most a day ahead"),
    _between_2000_and(timedelta(days=1), "must not be more than a day in the future"),
]
# When a person did something: from 2000-01-01 to now (five minutes of clock skew allowed).
HappenedAt = Annotated[
    AwareDatetime,
    Field(description="ISO 8601 with a UTC offset; from 2000-01-01, not in the future"),
    _between_2000_and(timedelta(minutes=5), "must not be in the future"),
]

# How many rows a page skips.
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description=f"0 to {MAX_OFFSET:,}")]


def _json_problem(value: Any, depth: int = 0) -> str | None:
    """Return what breaks the policy inside a free JSON value (any text may span lines)."""
    if depth > MAX_JSON_DEPTH:
        return f"must not nest deeper than {MAX_JSON_DEPTH} levels"
    if isinstance(value, str):
        return text_problem(value, multi_line=True)
    if isinstance(value, float) and not math.isfinite(value):
        return "must hold finite numbers only"
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    for item in items:
        if problem := _json_problem(item, depth + 1):
            return problem
    return None


@dataclass(frozen=True)
class JsonPolicy:
    """Marks a free JSON value and checks it: clean text, finite numbers, bounded depth."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def check(self, value: Any) -> Any:
        if problem := _json_problem(value):
            raise PydanticCustomError("json_policy", problem)
        return value


# A free JSON object kept as given (evidence).
JsonObject = Annotated[dict[str, Any], JsonPolicy()]


class CamelModel(BaseModel):
    """Reads either spelling, writes camelCase, accepts ORM objects."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


def _declared(annotation: Any) -> bool:
    """Return True when a type says how its text is checked (a TextPolicy or a JsonPolicy)."""
    if isinstance(annotation, TextPolicy | JsonPolicy):
        return True
    metadata = getattr(annotation, "__metadata__", ())
    return any(_declared(m) for m in metadata) or any(
        _declared(a) for a in typing.get_args(annotation)
    )


class InputModel(CamelModel):
    """A request body: strips text, rejects unknown fields (typos get a 422 naming them).

    Text fields declare their policy (`SingleLine`, `MultiLine`, `JsonObject`); any text a field
    does not declare is held to the strictest one (one line, no control characters).
    """

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    _undeclared: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._undeclared = frozenset(
            name
            for name, field in cls.model_fields.items()
            if not (_declared(field.annotation) or any(map(_declared, field.metadata)))
        )

    @field_validator("*", mode="after")
    @classmethod
    def _input_policy(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name not in cls._undeclared:
            return value
        if problem := _undeclared_problem(value):
            raise PydanticCustomError("text_policy", problem)
        return value


def _undeclared_problem(value: Any) -> str | None:
    if isinstance(value, BaseModel | enum.Enum):
        return None  # nested models check themselves; enum members are known values
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, dict):
        return next(filter(None, map(_undeclared_problem, [*value, *value.values()])), None)
    if isinstance(value, list | tuple | set | frozenset):
        return next(filter(None, map(_undeclared_problem, value)), None)
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    return None


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
