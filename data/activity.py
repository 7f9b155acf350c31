"""Customer feedback and timeline events."""

import random
import uuid
from datetime import date, timedelta

from data import phrases
from data.catalog import PRODUCTS
from data.goals import Plan
from data.load import at, new_id
from data.people import Account

FEEDBACK_COLUMNS = (
    "id",
    "customer_id",
    "contact_id",
    "kind",
    "score",
    "comment",
    "respondent_name",
    "respondent_title",
    "responded_at",
)
TIMELINE_COLUMNS = (
    "id",
    "customer_id",
    "occurred_at",
    "kind",
    "title",
    "body",
    "actor_user_id",
    "related_type",
    "related_id",
)


def _comment(rng: random.Random, mood: str, account: Account, metrics: list[str]) -> str:
    if mood == "good":
        product = "the " + rng.choice(list(PRODUCTS.values()))[0]
        opener = rng.choice(phrases.PRAISE_OPEN)
        opener = opener.format(product=product, csm=account.owner.name.split()[0])
        parts = [opener, phrases.PRAISE_DETAIL[rng.choice(metrics)], rng.choice(phrases.CLOSE_GOOD)]
    elif mood == "neutral":
        parts = [rng.choice(phrases.NEUTRAL)]
        if rng.random() < 0.5:
            parts.append(phrases.PRAISE_DETAIL[rng.choice(metrics)])
    else:
        parts = rng.sample(phrases.CRITICAL, rng.randint(1, 2)) + [rng.choice(phrases.CLOSE_BAD)]
    return " ".join(p for p in parts if p)


def feedback_rows(rng: random.Random, accounts: list[Account], metrics, as_of: date):
    """Yield 2-6 NPS or CSAT responses per account over the last year, scored by its health."""
    for account in accounts:
        h = account.health / 100
        for _ in range(rng.randint(2, 6)):
            mood = rng.choices(("good", "neutral", "bad"), (0.15 + 0.6 * h, 0.4, 0.45 - 0.4 * h))[0]
            if rng.random() < 0.55:
                kind = "nps"
                score = {"good": rng.randint(9, 10), "neutral": rng.randint(7, 8)}.get(mood)
                score = rng.randint(0, 6) if score is None else score
            else:
                kind = "csat"
                score = {"good": rng.choice((4, 5, 5)), "neutral": 3}.get(mood, rng.randint(1, 2))
            contact = rng.choice(account.contacts) if rng.random() < 0.9 else None
            yield (
                new_id(rng),
                account.id,
                contact.id if contact else None,
                kind,
                score,
                _comment(rng, mood, account, metrics[account.id]),
                contact.name if contact else None,
                contact.title if contact else None,
                at(as_of - timedelta(days=rng.randint(1, 364)), rng),
            )


def _anniversary(since: date, as_of: date) -> date:
    years = as_of.year - since.year
    day = date(since.year + years, since.month, min(since.day, 28))
    return day if day < as_of else date(day.year - 1, day.month, day.day)


def timeline_rows(
    rng: random.Random, accounts: list[Account], plans: dict[uuid.UUID, Plan], as_of: date
):
    """Yield a handful of events per account: kickoff, reviews, training, escalations, renewal."""
    for account in accounts:
        plan = plans[account.id]
        contact = account.contacts[0].name
        events = []
        if plan.start < as_of:
            events.append(("kickoff", plan.start, plan))
        first_qbr = rng.randint(20, 90)
        events += [
            ("qbr", as_of - timedelta(days=first_qbr + 91 * q), None)
            for q in range(rng.randint(1, 3))
        ]
        for kind, chance in (("training", 0.5), ("check_in", 0.4)):
            if rng.random() < chance:
                events.append((kind, as_of - timedelta(days=rng.randint(5, 330)), None))
        if account.health < 45 and rng.random() < 0.7:
            events.append(("escalation", as_of - timedelta(days=rng.randint(3, 120)), None))
        if rng.random() < 0.7:
            events.append(("renewal", _anniversary(account.since, as_of), None))
        for kind, day, related in events:
            title, body = phrases.TIMELINE[kind]
            values = {"plan": plan.name, "contact": contact, "use_case": account.use_case.lower()}
            yield (
                new_id(rng),
                account.id,
                at(day, rng),
                kind,
                title.format(**values),
                body.format(**values),
                account.owner.id,
                "success_plan" if related else None,
                related.id if related else None,
            )
