"""Base pydantic models and the one input policy: snake_case in Python, camelCase in JSON.

The input policy (README "Input policy") holds for every request body, query and path value and
for the UI's forms (`check_text` and the limits below):

- text never holds NUL, other control characters or lone surrogates; line breaks (and tabs) only
  in text that is multi-line by nature (`MultiLine`: notes, bodies, findings, descriptions);
  names, subjects, emails and ids are `SingleLine`; every text field has a maximum length;
- numbers are finite and within their documented bounds (`Amount`);
- days lie from `EARLIEST_DAY` to `LATEST_DAY` (`Day`); moments from 2000-01-01 to a little
  ahead of now (`ObservedAt`: a day, `HappenedAt`: five minutes);
- offsets and limits are bounded (`Offset`);
- enum values are forgiving (`Forgiving[Segment]`): the value, the member's name, its label and
  declared aliases (`accept_aliases`), case-insensitive with spaces, hyphens and underscores alike;
  the canonical value is what is stored and answered.
"""

import enum
import math
import re
import typing
import uuid
from collections.abc import Iterable, Mapping
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
    GetJsonSchemaHandler,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError, core_schema

from core.base import Consent, Direction, Segment

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


# Forgiving enums: CRMs send picklist labels ("Mid-Market", "Higher is better"), not our values.

SPELLING_LENGTH = 64
SPELLING_RULE = "case, spaces, hyphens and underscores do not matter"
_SPELLING_NOISE = re.compile(r"[\s_-]+")
_ALIASES: dict[type[enum.Enum], dict[enum.Enum, tuple[str, ...]]] = {}
_SPELLINGS: dict[type[enum.Enum], dict[str, enum.Enum]] = {}


def spelling_key(text: str) -> str:
    """Return a spelling as spellings compare: any case, spaces/hyphens/underscores alike."""
    return _SPELLING_NOISE.sub("", text).casefold()


def _spellings_of(
    enum_cls: type[enum.Enum], aliases: Mapping[enum.Enum, tuple[str, ...]]
) -> dict[str, enum.Enum]:
    """Return every accepted spelling's key and its member; refuse a spelling of two members."""
    table: dict[str, enum.Enum] = {}
    for member in enum_cls:
        for word in (str(member.value), member.name, *aliases.get(member, ())):
            key = spelling_key(word)
            taken = table.setdefault(key, member)
            if not key or taken is not member:
                raise ValueError(f"{enum_cls.__name__}: {word!r} cannot spell {member.value!r}")
    return table


def accept_aliases(enum_cls: type[enum.Enum], aliases: Mapping[Any, Iterable[str]]) -> None:
    """Declare more spellings `Forgiving[enum_cls]` accepts (CRM picklist labels, short forms).

    Declare them beside the inbound models of the package the enum belongs to; the value, the
    member's name and labels derived from the value ("Mid market") need no declaring.
    """
    merged = dict(_ALIASES.get(enum_cls, {}))
    for value, words in aliases.items():
        member = enum_cls(value)
        merged[member] = tuple(dict.fromkeys((*merged.get(member, ()), *words)))
    _SPELLINGS[enum_cls] = _spellings_of(enum_cls, merged)
    _ALIASES[enum_cls] = merged


def canonical(enum_cls: type[enum.Enum], value: Any) -> enum.Enum | None:
    """Return the member `value` spells in any accepted way, or None."""
    if isinstance(value, enum_cls):
        return value
    if isinstance(value, enum.Enum):
        value = value.value
    if not isinstance(value, str) or len(value) > SPELLING_LENGTH:
        return None
    return _table(enum_cls).get(spelling_key(value))


def _table(enum_cls: type[enum.Enum]) -> dict[str, enum.Enum]:
    if enum_cls not in _SPELLINGS:
        _SPELLINGS[enum_cls] = _spellings_of(enum_cls, {})
    return _SPELLINGS[enum_cls]


def aliases_of(enum_cls: type[enum.Enum]) -> dict[str, list[str]]:
    """Return each canonical value with its other spellings (its name, its aliases), one each."""
    declared = _ALIASES.get(enum_cls, {})
    found = {}
    for member in enum_cls:
        words = {spelling_key(str(member.value)): None}
        for word in (member.name.lower(), *declared.get(member, ())):
            words.setdefault(spelling_key(word), word)
        found[str(member.value)] = [w for w in words.values() if w is not None]
    return found


def spellings_text(enum_cls: type[enum.Enum]) -> str:
    """Say which spellings are accepted: 'smb (or small business), mid_market (or MM); case, …'."""
    parts = [
        f"{value} (or {', '.join(words)})" if words else value
        for value, words in aliases_of(enum_cls).items()
    ]
    return f"{', '.join(parts)}; {SPELLING_RULE}"


@dataclass(frozen=True)
class EnumSpelling:
    """Marks an enum field that takes any accepted spelling and keeps the canonical member.

    OpenAPI shows `anyOf: [the enum, a string]`: the canonical values stay machine-readable while
    clients (and fuzzers) learn that other spellings are valid input too; `x-spellings` and the
    string's description list them.
    """

    enum_cls: type[enum.Enum]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        _table(self.enum_cls)  # a name that spells another member fails here, at import
        return core_schema.no_info_before_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        other = {
            "type": "string",
            "minLength": 1,
            "maxLength": SPELLING_LENGTH,
            "description": f"Another spelling of one of them: {spellings_text(self.enum_cls)}",
        }
        return {"anyOf": [handler(schema), other], "x-spellings": aliases_of(self.enum_cls)}

    def check(self, value: Any) -> enum.Enum:
        found = canonical(self.enum_cls, value)
        if found is None:
            raise PydanticCustomError("enum", f"must be one of {spellings_text(self.enum_cls)}")
        return found


class Forgiving:
    """`Forgiving[Segment]`: an enum field of an inbound model or query taking any spelling.

    It accepts the value, the member's name, labels derived from the value and the aliases
    declared with `accept_aliases`, case-insensitively with spaces, hyphens and underscores
    alike, and always holds (and answers) the canonical member. Anything else is a 422 listing
    the accepted spellings.
    """

    def __class_getitem__(cls, enum_cls: type[enum.Enum]) -> Any:
        return Annotated[enum_cls, EnumSpelling(enum_cls)]


# The shared enums' labels as CRM picklists spell them (packages declare their own enums').
accept_aliases(
    Direction,
    {
        Direction.HIGHER: ("up", "increase", "more is better"),
        Direction.LOWER: ("down", "decrease", "less is better"),
    },
)
accept_aliases(
    Segment,
    {
        Segment.SMB: ("small business", "small and medium business"),
        Segment.MID_MARKET: ("MM", "mid-size"),
        Segment.ENTERPRISE: ("ENT", "large enterprise"),
    },
)
accept_aliases(
    Consent,
    {
        Consent.INTERNAL_ONLY: ("internal", "internal use only", "private"),
        Consent.ANONYMIZED: ("anonymised", "anonymous"),
        Consent.LOGO: ("logo only", "logo use"),
        Consent.FULL_PUBLIC: ("fully public", "public with name"),
    },
)


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


# A refused input in plain words ----------------------------------------------------------------

_NUMBER_KINDS = ("float_parsing", "float_type", "decimal_parsing", "decimal_type", "finite_number")
_WHOLE_KINDS = ("int_parsing", "int_type", "int_from_float")
_PLAIN_LIMITS = {
    "greater_than_equal": ("ge", "must be at least {}."),
    "greater_than": ("gt", "must be more than {}."),
    "less_than_equal": ("le", "must be at most {}."),
    "less_than": ("lt", "must be less than {}."),
    "string_too_long": ("max_length", "can be at most {} characters."),
    "too_long": ("max_length", "can have at most {} entries."),
    "too_short": ("min_length", "needs at least {} entries."),
}
_COLLECTIONS = ("List", "Tuple", "Set", "Frozenset", "Dictionary")
_PYDANTIC_PHRASES = (("Input should be ", "must be "), ("String should ", "must "))


def problem_words(error: Mapping) -> str:
    """Say one pydantic error without its field, in the words a person reads: 'is required.'."""
    kind, context = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        return "is required."
    if kind == "string_too_short":
        return f"needs at least {context.get('min_length')} characters."
    if kind == "too_short" and context.get("min_length") == 1:
        return "needs at least one entry."
    if kind in _PLAIN_LIMITS and _PLAIN_LIMITS[kind][0] in context:
        bound, words = _PLAIN_LIMITS[kind]
        if kind == "too_long" and context.get("field_type") not in _COLLECTIONS:
            words = _PLAIN_LIMITS["string_too_long"][1]  # text checked after it was tidied
        value = context[bound]
        if isinstance(value, float | Decimal) and math.isfinite(value) and value == int(value):
            value = int(value)  # "at least 0", not "at least 0.0"
        return words.format(f"{value:,}" if isinstance(value, int) else value)
    if kind in _WHOLE_KINDS:
        return "must be a whole number."
    if kind in _NUMBER_KINDS:
        return "must be a number."
    if kind.startswith("decimal_max"):
        return "has too many digits."
    if kind.startswith(("date_", "datetime_")):
        return "must be a date (YYYY-MM-DD)."
    if kind.startswith("uuid"):
        return "must be an id (a UUID)."
    if kind == "extra_forbidden":
        return "is not expected here."
    if kind in ("enum", "literal_error") and str(error.get("msg", "")).startswith("Input "):
        return "must be one of the listed options."  # ours (Forgiving) list the spellings
    message = str(error.get("msg", "is not valid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    for pydantic_words, plain_words in _PYDANTIC_PHRASES:
        message = message.replace(pydantic_words, plain_words)
    return message if message.endswith((".", "?", "!")) else message + "."


def problems_text(exc: ValidationError) -> str:
    """Return an input model's errors as one Invalid message: 'field: problem; other: problem'.

    Fields are named as the API names them (camelCase); a problem of the whole input has none.
    """
    parts = []
    for error in exc.errors():
        field = ".".join(to_camel(p) if isinstance(p, str) else str(p) for p in error["loc"])
        words = problem_words(error)
        parts.append(f"{field}: {words}" if field else words[0].upper() + words[1:])
    return "; ".join(parts)
