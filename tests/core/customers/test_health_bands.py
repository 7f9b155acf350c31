"""A health score's band is the band of the whole number people see."""

from decimal import Decimal

import pytest
from sqlalchemy import literal, select

from components.format import score
from core.customers.queries import health_band, health_band_expr
from core.customers.schemas import HealthBand


@pytest.mark.parametrize(
    ("value", "shown", "band"),
    [
        ("69.6", "70", HealthBand.HEALTHY),
        ("69.5", "70", HealthBand.HEALTHY),
        ("69.4", "69", HealthBand.WATCH),
        ("39.5", "40", HealthBand.WATCH),
        ("39.4", "39", HealthBand.AT_RISK),
        ("70", "70", HealthBand.HEALTHY),
    ],
)
def test_the_band_follows_the_number_shown_in_python_and_sql(session, value, shown, band):
    exact = Decimal(value)
    assert score(exact) == shown
    assert health_band(exact) == band
    assert session.scalar(select(health_band_expr(literal(exact)))) == band.value
