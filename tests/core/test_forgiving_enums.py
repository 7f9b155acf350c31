"""Forgiving enums: any accepted spelling in, the canonical value out; anything else is refused."""

import enum
import importlib
import pkgutil
import typing

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import core
from components.format import label
from core.base import Consent, Direction, Segment
from core.customers.models import CustomerEventKind, FeedbackKind, MetricKind
from core.documentation.schemas import AchievementFilters
from core.goals.models import AchievementMethod, AchievementStatus, GoalType, MilestoneStatus
from core.marketing.models import CandidateType
from core.repository.schemas import RepositoryFilters, UseIn, UsePurpose
from core.schemas import (
    SPELLING_LENGTH,
    EnumSpelling,
    Forgiving,
    InputModel,
    accept_aliases,
    aliases_of,
    canonical,
    spelling_key,
)
from core.upsell.models import MeasurementMode, ProgressStatus, UpsellSource, UpsellType

INBOUND_ENUMS = (
    Direction,
    Segment,
    Consent,
    GoalType,
    MilestoneStatus,
    AchievementStatus,
    AchievementMethod,
    MetricKind,
    FeedbackKind,
    CustomerEventKind,
    UpsellType,
    UpsellSource,
    MeasurementMode,
    ProgressStatus,
    CandidateType,
    UsePurpose,
)


class Account(InputModel):
    segment: Forgiving[Segment]
    direction: Forgiving[Direction] | None = None


@pytest.mark.parametrize(
    ("enum_cls", "spellings", "expected"),
    [
        (Segment, ["SMB", "smb", "Small business", "small-business"], Segment.SMB),
        (
            Segment,
            ["Mid-Market", "Mid market", "Midmarket", "MM", "mid_market", "MID_MARKET"],
            Segment.MID_MARKET,
        ),
        (Segment, ["Enterprise", "ENT", "  enterprise "], Segment.ENTERPRISE),
        (
            Direction,
            ["higher", "Higher is better", "up", "increase", "HIGHER_IS_BETTER"],
            Direction.HIGHER,
        ),
        (Direction, ["lower", "Lower is better", "down", "decrease"], Direction.LOWER),
        (FeedbackKind, ["NPS", "Net Promoter Score"], FeedbackKind.NPS),
        (FeedbackKind, ["CSAT", "Customer satisfaction"], FeedbackKind.CSAT),
        (Consent, ["Full public", "FULL-PUBLIC", "fully public"], Consent.FULL_PUBLIC),
        (UpsellType, ["Cross-Sell", "cross sell", "Add-on"], UpsellType.CROSS_SELL),
        (GoalType, ["KPI threshold", "kpi"], GoalType.KPI),
        (GoalType, ["Success plan milestone", "Success Plan"], GoalType.SUCCESS_PLAN),
    ],
)
def test_the_crm_spellings_of_the_brief_mean_their_value(enum_cls, spellings, expected):
    for spelling in spellings:
        found = canonical(enum_cls, spelling)
        assert found is expected, spelling


def test_a_model_keeps_and_answers_the_canonical_value():
    account = Account.model_validate({"segment": "Mid-Market", "direction": "higher"})
    assert account.segment is Segment.MID_MARKET and account.direction is Direction.HIGHER
    assert account.model_dump(mode="json") == {
        "segment": "mid_market",
        "direction": "higher_is_better",
    }


def _respelled(word: str, draw) -> str:
    """`word` with each letter's case and each separator drawn anew (never a new letter)."""
    out = []
    for char in word:
        if char in " -_":
            out.append(draw(st.sampled_from(["", " ", "-", "_", " - ", "__"])))
        else:
            out.append(char.upper() if draw(st.booleans()) else char.lower())
    return "".join(out)


@st.composite
def spellings(draw):
    enum_cls = draw(st.sampled_from(INBOUND_ENUMS))
    member = draw(st.sampled_from(list(enum_cls)))
    words = [str(member.value), member.name, label(member), *aliases_of(enum_cls)[member.value]]
    return member, _respelled(draw(st.sampled_from(words)), draw)


@given(spellings())
def test_every_spelling_of_a_value_name_label_or_alias_is_that_value(case):
    member, spelling = case
    assert canonical(type(member), spelling) is member


@given(st.text(max_size=80))
def test_any_other_text_is_refused_listing_the_accepted_spellings(text):
    known = {spelling_key(w) for m in Segment for w in (m.value, m.name, *aliases_of(Segment)[m])}
    if spelling_key(text) in known and len(text) <= SPELLING_LENGTH:
        return
    with pytest.raises(ValidationError) as caught:
        Account.model_validate({"segment": text})
    [error] = caught.value.errors()
    assert error["type"] == "enum" and error["loc"] == ("segment",)
    message = error["msg"]
    assert message.startswith("must be one of smb (or small business")
    assert "mid_market (or MM" in message and "enterprise (or ENT" in message
    assert message.endswith("case, spaces, hyphens and underscores do not matter")


@pytest.mark.parametrize("value", [3, None, ["smb"], {"segment": "smb"}])
def test_values_that_are_not_text_are_refused_too(value):
    with pytest.raises(ValidationError) as caught:
        Account.model_validate({"segment": value})
    assert caught.value.errors()[0]["msg"].startswith("must be one of smb")


def test_an_alias_that_would_spell_two_members_is_refused():
    class Colour(enum.StrEnum):
        RED = "red"
        DARK_RED = "dark_red"

    with pytest.raises(ValueError, match="cannot spell"):
        accept_aliases(Colour, {Colour.RED: ("Dark red",)})
    accept_aliases(Colour, {Colour.RED: ("crimson",)})
    assert canonical(Colour, "Crimson") is Colour.RED


def test_openapi_keeps_the_canonical_enum_and_lists_other_spellings():
    field = Account.model_json_schema()["properties"]["segment"]
    strict, other = field["anyOf"]
    assert strict == {"$ref": "#/$defs/Segment"}
    assert other["type"] == "string" and other["maxLength"] == SPELLING_LENGTH
    assert "mid_market (or MM, mid-size)" in other["description"]
    assert field["x-spellings"]["enterprise"] == ["ENT", "large enterprise"]


def _enum_types(annotation) -> list[type[enum.Enum]]:
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [annotation]
    return [e for arg in typing.get_args(annotation) for e in _enum_types(arg)]


def _forgiving(annotation, metadata=()) -> bool:
    """True when every enum in the annotation is wrapped in `Forgiving[...]`."""
    marks = [*metadata, *getattr(annotation, "__metadata__", ())]
    if any(isinstance(m, EnumSpelling) for m in marks):
        return True
    args = [a for a in typing.get_args(annotation) if _enum_types(a)]
    return bool(args) and all(_forgiving(a) for a in args)


def _inbound_models():
    # Every module under core, so input models added anywhere later are checked too.
    for info in pkgutil.walk_packages(core.__path__, prefix="core."):
        importlib.import_module(info.name)
    found = sorted(set(_subclasses(InputModel)), key=lambda m: (m.__module__, m.__name__))
    return [*found, AchievementFilters, RepositoryFilters, UseIn]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@pytest.mark.parametrize("model", _inbound_models(), ids=lambda m: m.__name__)
def test_every_enum_field_of_the_inbound_models_is_forgiving(model):
    plain = [
        name
        for name, field in model.model_fields.items()
        if _enum_types(field.annotation) and not _forgiving(field.annotation, field.metadata)
    ]
    assert plain == [], f"{model.__name__}: use Forgiving[...] for {plain}"
