"""Labels and chart axes in the product's words: one label per enum value, units that fit."""

import pytest

from components.charts import value_axis
from components.format import label, unit_label
from components.forms import in_words
from core.base import Direction, Segment
from core.customers.schemas import HealthBand
from core.errors import Invalid
from core.outbox.models import Channel, DeliveryStatus
from core.repository.schemas import UsePurpose
from core.upsell.models import OutcomeStatus, ProgressStatus
from tests.pages.visible_text import core_enum_values


def test_equal_values_of_different_enums_keep_their_own_labels():
    assert label(HealthBand.AT_RISK) == "At risk (<40)"
    assert label(OutcomeStatus.AT_RISK) == "At risk"
    assert label(ProgressStatus.AT_RISK) == "At risk"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Segment.SMB, "SMB"),
        ("smb", "SMB"),
        (Segment.MID_MARKET, "Mid-market"),
        (Direction.HIGHER, "Higher is better"),
        (UsePurpose.QBR, "QBR"),
        (Channel.GOOGLE_DOC, "Google Doc"),
        (DeliveryStatus.NOT_CONFIGURED, "Not configured"),
        (DeliveryStatus.DEAD, "Dead letter"),
    ],
)
def test_labels_read_as_words(value, shown):
    assert label(value) == shown


def test_no_enum_value_labels_as_itself():
    for value in core_enum_values():
        shown = label(value)
        assert "_" not in shown and shown != value, (value, shown)


def test_a_met_criterion_reads_met_or_not():
    axis = value_axis("met", [0, 1, 1])
    assert axis["ticktext"] == ["Not met", "Met"] and axis["tickvals"] == [0, 1]
    assert unit_label("met") == "Met or not"


@pytest.mark.parametrize(
    ("unit", "values", "expected"),
    [
        ("escalations", [0, 1, 0], {"tickformat": ",d", "dtick": 1}),
        ("hours", [0.5, 3.2], {"tickformat": ",~r"}),
        ("users", [12_000, 40_000], {"tickformat": "~s"}),
        ("USD", [500.0, 1200.0], {"tickprefix": "$"}),
    ],
)
def test_value_axes_fit_their_unit(unit, values, expected):
    assert value_axis(unit, values).items() >= expected.items()


def test_a_form_names_the_field_by_its_label():
    refused = Invalid("checkpointDays: must be at least 1.")
    assert in_words(refused, {"checkpointDays": "Checkpoint days"}) == [
        "Checkpoint days: must be at least 1."
    ]


def test_a_prediction_without_history_says_so():
    from decimal import Decimal

    from components.upsell_views import prediction_words

    assert prediction_words(Decimal("60.0"), True) == "60% (no history yet)"
    assert prediction_words(Decimal("61.6"), False) == "62%"
