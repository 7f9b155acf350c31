"""Read models for the home figures, the people directory and the system view."""

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from core.base import Role
from core.customers.schemas import HealthBand


class UserSummary(BaseModel):
    """A person who can sign in."""

    id: uuid.UUID
    email: str
    name: str
    role: Role
    title: str | None


class Slice(BaseModel):
    """One bar or wedge of a chart."""

    label: str
    value: Decimal


class MonthPoint(BaseModel):
    month: date
    count: int
    arr: Decimal


class AttentionItem(BaseModel):
    """A customer somebody should look at, and why."""

    customer_id: uuid.UUID
    name: str
    health_score: Decimal | None
    health_band: HealthBand
    arr: Decimal
    csm_name: str | None
    reason: str


class HomeFigures(BaseModel):
    """The live figures of the home page for one person (their book or the company)."""

    scope: Literal["book", "company"]
    user_name: str
    role: Role
    customers: int
    arr: Decimal
    avg_health: Decimal | None
    active_goals: int
    open_plans: int
    upsells_without_plan: int
    pending_approvals: int
    arr_by_segment: list[Slice]
    customers_by_industry: list[Slice]
    health_bands: list[Slice]
    upsells_by_month: list[MonthPoint]
    attention: list[AttentionItem]


class DatabaseStatus(BaseModel):
    ok: bool
    name: str
    version: str
    size: str
    revision: str | None
    counts: dict[str, int]


class JobRunRow(BaseModel):
    job_name: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    error: str | None


class ApiKeyRow(BaseModel):
    """An API key as admins may see it: never the key or its hash."""

    name: str
    role: Role
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class SystemStatus(BaseModel):
    database: DatabaseStatus
    job_runs: list[JobRunRow]
    api_keys: list[ApiKeyRow]
