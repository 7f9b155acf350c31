"""The fixed catalogue: industries, segments, metrics, products, templates and benchmarks."""

from dataclasses import dataclass

HIGHER = "higher_is_better"
LOWER = "lower_is_better"


@dataclass(frozen=True)
class Industry:
    name: str
    suffixes: tuple[str, ...]
    use_cases: tuple[str, ...]
    focus: tuple[str, ...]  # metrics its customers track more often
    adoption_delta: float  # benchmark offsets: points of adoption, hours of resolution time
    hours_delta: float


INDUSTRIES = (
    Industry(
        "Healthcare",
        ("Health", "Medical Group", "Care Partners", "Clinics", "Health System"),
        (
            "Patient intake automation",
            "Clinical support desk",
            "Referral management",
            "Prior authorization workflows",
        ),
        ("ticket_resolution_hours", "onboarding_completion"),
        -4,
        3,
    ),
    Industry(
        "Fintech",
        ("Pay", "Capital", "Financial", "Lending", "Ledger"),
        (
            "Fraud review workflows",
            "Customer onboarding and KYC",
            "Payment dispute handling",
            "Loan servicing support",
        ),
        ("automation_runs", "cost_savings"),
        6,
        -2,
    ),
    Industry(
        "Retail",
        ("Outfitters", "Goods", "Markets", "Supply Co.", "Retail Group"),
        (
            "Store operations reporting",
            "Order exception handling",
            "Omnichannel customer service",
            "Replenishment alerts",
        ),
        ("ticket_resolution_hours", "time_saved_hours"),
        0,
        1,
    ),
    Industry(
        "Logistics",
        ("Logistics", "Freight", "Shipping", "Transport", "Fleet Services"),
        (
            "Shipment exception handling",
            "Carrier onboarding",
            "Dispatch automation",
            "Proof-of-delivery reconciliation",
        ),
        ("automation_runs", "time_saved_hours"),
        2,
        0,
    ),
    Industry(
        "Manufacturing",
        ("Industries", "Manufacturing", "Fabrication", "Components", "Works"),
        (
            "Maintenance work orders",
            "Supplier quality tracking",
            "Shop-floor reporting",
            "Production planning",
        ),
        ("automation_runs", "cost_savings"),
        -2,
        2,
    ),
    Industry(
        "Education",
        ("Academy", "Learning", "College", "Schools", "Education Trust"),
        (
            "Student support desk",
            "Enrollment operations",
            "Course content workflows",
            "Faculty onboarding",
        ),
        ("onboarding_completion", "feature_adoption"),
        -6,
        4,
    ),
    Industry(
        "Media",
        ("Media", "Studios", "Broadcasting", "Publishing", "Digital"),
        (
            "Content production pipeline",
            "Audience analytics",
            "Rights and licensing requests",
            "Subscriber support",
        ),
        ("feature_adoption", "time_saved_hours"),
        4,
        -1,
    ),
    Industry(
        "SaaS",
        ("Software", "Labs", "Cloud", "Systems", "Technologies"),
        (
            "Customer support automation",
            "Product usage analytics",
            "Release coordination",
            "Self-serve onboarding",
        ),
        ("ticket_resolution_hours", "csat"),
        9,
        -4,
    ),
    Industry(
        "Insurance",
        ("Insurance", "Mutual", "Assurance", "Underwriters", "Risk Partners"),
        ("Claims intake automation", "Policy servicing", "Broker support", "Underwriting workflow"),
        ("cost_savings", "ticket_resolution_hours"),
        -3,
        5,
    ),
    Industry(
        "Public Sector",
        ("County Services", "City Council", "Transit Authority", "Public Works", "Housing Agency"),
        (
            "Citizen service requests",
            "Permit processing",
            "Case management",
            "Field inspection scheduling",
        ),
        ("onboarding_completion", "csat"),
        -9,
        7,
    ),
)

# name: (weight, ARR range, usage scale)
SEGMENTS = {
    "smb": (45, (12_000, 60_000), 1.0),
    "mid_market": (35, (60_000, 250_000), 5.0),
    "enterprise": (20, (250_000, 1_600_000), 30.0),
}
REGIONS = {"NA": 45, "EMEA": 30, "APAC": 15, "LATAM": 10}
CONSENT = {"internal_only": 55, "anonymized": 20, "logo": 15, "full_public": 10}


@dataclass(frozen=True)
class MetricDef:
    key: str
    name: str
    unit: str
    kind: str
    direction: str
    is_money: bool
    description: str
    decimals: int
    base: tuple[float, float]  # level a year ago for a small business
    size_power: float  # bigger customers: base times (segment usage scale ** size_power)
    swing: float  # how far a year of (dis)improvement moves the level, relative
    weekend: float  # Saturday/Sunday multiplier
    season: float  # summer/holiday dip (negative: the value rises when teams are away)
    noise: float  # relative day-to-day noise
    spike: float  # multiplier of a rare outlier day (1 = none)
    lo: float
    hi: float | None
    saturating: bool


METRICS = (
    MetricDef(
        "weekly_active_users",
        "Weekly active users",
        "users",
        "usage",
        HIGHER,
        False,
        "Distinct people who used the platform in the trailing seven days.",
        0,
        (15, 60),
        1.0,
        0.9,
        0.98,
        0.06,
        0.02,
        2.4,
        1,
        None,
        False,
    ),
    MetricDef(
        "feature_adoption",
        "Core feature adoption",
        "%",
        "adoption",
        HIGHER,
        False,
        "Share of licensed users who used the core workflows this month.",
        1,
        (18, 50),
        0.0,
        1.2,
        1.0,
        0.0,
        0.012,
        1.0,
        0,
        100,
        True,
    ),
    MetricDef(
        "automation_runs",
        "Automation runs",
        "runs/day",
        "usage",
        HIGHER,
        False,
        "Automated workflow executions per day.",
        0,
        (40, 250),
        1.0,
        1.2,
        0.55,
        0.08,
        0.06,
        3.0,
        0,
        None,
        False,
    ),
    MetricDef(
        "ticket_resolution_hours",
        "Average ticket resolution time",
        "hours",
        "outcome",
        LOWER,
        False,
        "Mean hours from ticket creation to resolution.",
        1,
        (7, 26),
        0.0,
        0.5,
        1.12,
        -0.07,
        0.05,
        2.6,
        0.5,
        None,
        False,
    ),
    MetricDef(
        "onboarding_completion",
        "Onboarding completion",
        "%",
        "adoption",
        HIGHER,
        False,
        "Share of invited users who finished the onboarding checklist.",
        1,
        (8, 40),
        0.0,
        2.0,
        1.0,
        0.0,
        0.004,
        1.0,
        0,
        100,
        True,
    ),
    MetricDef(
        "cost_savings",
        "Annualized cost savings",
        "USD",
        "roi",
        HIGHER,
        True,
        "Run-rate savings from automated work, valued at the customer's loaded labor cost.",
        0,
        (4_000, 25_000),
        1.0,
        1.0,
        1.0,
        0.0,
        0.015,
        1.0,
        0,
        None,
        False,
    ),
    MetricDef(
        "time_saved_hours",
        "Time saved per week",
        "hours",
        "roi",
        HIGHER,
        False,
        "Hours of manual work saved in the trailing week.",
        1,
        (8, 50),
        0.7,
        1.0,
        1.0,
        0.04,
        0.03,
        2.2,
        0,
        None,
        False,
    ),
    MetricDef(
        "csat",
        "Support CSAT",
        "score",
        "satisfaction",
        HIGHER,
        False,
        "Average post-ticket satisfaction rating on a 1-5 scale.",
        2,
        (3.6, 4.3),
        0.0,
        0.12,
        1.0,
        0.0,
        0.018,
        1.0,
        1,
        5,
        False,
    ),
)
METRIC = {m.key: m for m in METRICS}

# code: (name, family, list price)
PRODUCTS = {
    "analytics-addon": ("Analytics Add-on", "analytics", 18_000),
    "automation-suite": ("Automation Suite", "automation", 36_000),
    "premium-support": ("Premium Support", "services", 15_000),
    "extra-seats": ("Additional Seats (25-pack)", "licenses", 7_500),
    "integrations-pack": ("Integrations Pack", "platform", 12_000),
    "ai-assistant": ("AI Assistant", "ai", 24_000),
}


def _criterion(name, key, kind, unit, target, direction=HIGHER, manual=False, uplift=None) -> dict:
    criterion = {
        "name": name,
        "metricKey": key,
        "type": kind,
        "unit": unit,
        "target": target,
        "direction": direction,
        "measurement": "manual" if manual else "automatic",
    }
    return criterion | ({"uplift": uplift} if uplift is not None else {})


def _uplift(smb: float, mid_market: float, enterprise: float) -> dict[str, float]:
    """How far a criterion moves from the customer's baseline, per segment (a share of it)."""
    return {"smb": smb, "mid_market": mid_market, "enterprise": enterprise}


# A criterion's `target` is the level used without a baseline (core/upsell/target_rules.py);
# with one, the target is the baseline moved by the segment's `uplift`: small customers have
# more room to grow, big ones move a larger base.
ADOPTION = _criterion(
    "Core feature adoption",
    "feature_adoption",
    "adoption",
    "%",
    60,
    uplift=_uplift(0.3, 0.25, 0.2),
)
RESOLUTION = _criterion(
    "Average ticket resolution time",
    "ticket_resolution_hours",
    "outcome",
    "hours",
    8,
    LOWER,
    uplift=_uplift(0.25, 0.2, 0.15),
)
TIME_SAVED = _criterion(
    "Time saved per week", "time_saved_hours", "roi", "hours", 60, uplift=_uplift(0.3, 0.25, 0.2)
)
RUNS = _criterion(
    "Automation runs", "automation_runs", "usage", "runs/day", 400, uplift=_uplift(0.5, 0.4, 0.3)
)


def _milestone(key: str, share: float, day: int) -> dict:
    """An adoption milestone: `share` of the way from baseline to target by `day`."""
    return {"metricKey": key, "share": share, "dueDay": day}


# product code: (criteria, checkpoint days, adoption milestones); products without milestones
# get the default set (core/upsell/milestones.py).
TEMPLATES = {
    "analytics-addon": (
        [
            ADOPTION,
            _criterion(
                "Weekly active users",
                "weekly_active_users",
                "usage",
                "users",
                150,
                uplift=_uplift(0.3, 0.2, 0.15),
            ),
            _criterion(
                "Executive dashboards in use", None, "outcome", "dashboards", 3, manual=True
            ),
        ],
        [30, 60, 90],
        [],
    ),
    "automation-suite": (
        [
            RUNS,
            TIME_SAVED,
            _criterion(
                "Annualized cost savings",
                "cost_savings",
                "roi",
                "USD",
                100_000,
                uplift=_uplift(0.35, 0.3, 0.25),
            ),
        ],
        [30, 60, 90, 180],
        [
            _milestone("automation_runs", 0.25, 30),
            _milestone("automation_runs", 0.6, 90),
            _milestone("cost_savings", 0.5, 120),
        ],
    ),
    "premium-support": (
        [
            RESOLUTION,
            _criterion(
                "Support CSAT",
                "csat",
                "satisfaction",
                "score",
                4.5,
                uplift=_uplift(0.08, 0.06, 0.05),
            ),
            _criterion("Escalations per month", None, "outcome", "escalations", 2, LOWER, True),
        ],
        [30, 60, 90],
        [],
    ),
    "extra-seats": (
        [
            _criterion(
                "Weekly active users",
                "weekly_active_users",
                "usage",
                "users",
                200,
                uplift=_uplift(0.4, 0.3, 0.2),
            ),
            _criterion(
                "Onboarding completion",
                "onboarding_completion",
                "adoption",
                "%",
                90,
                uplift=_uplift(0.4, 0.3, 0.25),
            ),
        ],
        [30, 60, 90],
        [
            _milestone("weekly_active_users", 0.5, 30),
            _milestone("onboarding_completion", 0.5, 45),
        ],
    ),
    "integrations-pack": (
        [
            _criterion("Connected systems", None, "adoption", "integrations", 4, manual=True),
            RUNS,
            TIME_SAVED,
        ],
        [30, 60, 90],
        [],
    ),
    "ai-assistant": ([ADOPTION, RESOLUTION, TIME_SAVED], [30, 60, 90], []),
}
# Metric criteria (not entered by hand) of each product, in template order.
MEASURED = {
    code: [c["metricKey"] for c in criteria if c["measurement"] == "automatic"]
    for code, (criteria, _, _) in TEMPLATES.items()
}
HAND_MEASURED = {
    code
    for code, (criteria, _, _) in TEMPLATES.items()
    if any(c["measurement"] == "manual" for c in criteria)
}

# metric: (median for a mid-market customer, top quartile as a multiple of the median)
BENCHMARKS = {
    "feature_adoption": (52.0, 1.28),
    "onboarding_completion": (78.0, 1.16),
    "ticket_resolution_hours": (14.0, 0.6),
    "csat": (4.2, 1.09),
}
SEGMENT_SHIFT = {"smb": -0.06, "mid_market": 0.0, "enterprise": 0.05}


def benchmark_rows() -> list[tuple[str, str, str, float, float]]:
    """Return (industry, segment, metric, median, top quartile) for every combination."""
    rows = []
    for ind in INDUSTRIES:
        for segment, shift in SEGMENT_SHIFT.items():
            for key, (median, factor) in BENCHMARKS.items():
                if key == "ticket_resolution_hours":
                    value = (median + ind.hours_delta) * (1 - shift)
                elif key == "csat":
                    value = median + ind.adoption_delta / 100 + shift
                else:
                    value = (median + ind.adoption_delta) * (1 + shift)
                cap = METRIC[key].hi
                top = value * factor if cap is None else min(value * factor, cap)
                digits = METRIC[key].decimals
                rows.append((ind.name, segment, key, round(value, digits), round(top, digits)))
    return rows
