"""Render admin-editable message templates in a sandboxed Jinja2 and let admins edit them.

Rendering keeps to budgets while it runs (loop iterations, calls, the size of every value and
of the output): see `core.drafts.sandbox`.
"""

import difflib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.accounts.schemas import UserSummary
from core.audit.service import record_audit
from core.base import Role
from core.drafts.models import MessageTemplate
from core.drafts.sandbox import render_text
from core.drafts.schemas import TemplateVariable, TemplateView
from core.errors import Conflict, Forbidden, Invalid, NotFound
from core.integrations.escape import header_value

SUBJECT_MAX = 300
BODY_MAX = 50_000  # also the most any one render may build: the subject's is checked after


@dataclass(frozen=True)
class DefaultTemplate:
    """The text a template key starts from until an admin saves their own."""

    name: str
    subject: str
    body: str


DEFAULT_TEMPLATES: dict[str, DefaultTemplate] = {
    "congratulations_email": DefaultTemplate(
        name="Congratulations email",
        subject="{{ customer_name }} reached “{{ goal_name }}”",
        body="""Hi {{ contact_name }},

Congratulations: your team has reached "{{ goal_name }}". You {{ result }}, \
and you got there in {{ days_to_achieve }} days.
{% if value_summary %}
In practical terms, that means {{ value_summary }}.
{% endif %}
This win belongs to the people on your side who changed how they work. Please pass on my thanks.
{% if next_goals %}
When you are ready, here is what I suggest we look at next:
{% for goal in next_goals %}  - {{ goal }}
{% endfor %}{% endif %}
I would be glad to set up a short call to plan the next step.

Best,
{{ csm_name }}
{{ csm_title }}
""",
    ),
    "review_summary": DefaultTemplate(
        name="Review summary",
        subject="{{ customer_name }}: day {{ checkpoint_day }} review of {{ product_names }}",
        body="""Hi {{ customer_name }} team,

Here is a short summary of our day {{ checkpoint_day }} review of {{ product_names }}.

Where we are: {{ status }}

What the data shows:
{{ findings }}

Suggested next steps:
{{ next_steps }}

Thanks,
{{ csm_name }}
""",
    ),
    "feedback_request": DefaultTemplate(
        name="Feedback request",
        subject="{{ customer_name }}: how is {{ product_names }} working for you?",
        body="""Hi {{ contact_name }},

It has been {{ days_since_start }} days since your team started with {{ product_names }}. \
Before our next review I would value your honest view on two questions:

1. On a scale of 1 to 5, how satisfied are you with {{ product_names }} so far?
2. What one change would make it more useful to your team?

A short reply to this email is plenty; we will go through it together at the review.

Thanks,
{{ csm_name }}
""",
    ),
}

VARIABLES: dict[str, list[TemplateVariable]] = {
    "congratulations_email": [
        TemplateVariable(name=n, description=d, sample=s)
        for n, d, s in (
            ("customer_name", "Customer account name", "Northwind Logistics"),
            ("contact_name", "First name of the primary contact", "Priya"),
            ("goal_name", "The goal that was reached", "Faster ticket resolution"),
            ("result", "What changed, as a verb phrase", "cut average resolution to 3.6 hours"),
            ("target", "The target that was set", "4 hours"),
            ("beyond_target", "How far past the target (may be empty)", "10% better than target"),
            ("value_summary", "The value in plain words (may be empty)", "about 300 hours a month"),
            ("days_to_achieve", "Days from the goal's start to the win", "74"),
            ("next_goals", "Suggested next goals (a list)", "['Self-service portal', 'CSAT 90']"),
            ("csm_name", "The CSM who signs the email", "Casey Morgan"),
            ("csm_title", "The CSM's job title", "Customer Success Manager"),
        )
    ],
    "review_summary": [
        TemplateVariable(name=n, description=d, sample=s)
        for n, d, s in (
            ("customer_name", "Customer account name", "Northwind Logistics"),
            ("checkpoint_day", "Checkpoint day (30, 60, 90)", "60"),
            ("product_names", "Products in the upsell", "Analytics Pro, Workflow Suite"),
            ("status", "Where adoption stands", "On track"),
            ("findings", "What the metrics show", "Adoption is at 72% of target."),
            ("next_steps", "Agreed next steps", "Train the two remaining regional teams."),
            ("csm_name", "The CSM who ran the review", "Casey Morgan"),
        )
    ],
    "feedback_request": [
        TemplateVariable(name=n, description=d, sample=s)
        for n, d, s in (
            ("customer_name", "Customer account name", "Northwind Logistics"),
            ("contact_name", "First name of the primary contact", "Priya"),
            ("product_names", "Products in the upsell", "Analytics Pro"),
            ("days_since_start", "Days since the upsell closed", "60"),
            ("csm_name", "The CSM who asks", "Casey Morgan"),
        )
    ],
}

_LISTS = {"next_goals": ["Launch the self-service portal", "Reach a CSAT of 90"]}


def sample_context(key: str) -> dict:
    """Return realistic sample values for every variable of template `key`."""
    return {v.name: _LISTS.get(v.name, v.sample) for v in VARIABLES.get(key, [])}


def _render_one(part: str, source: str, context: dict) -> str:
    return render_text(part=part, source=source, context=context, limit=BODY_MAX)


def check_subject(subject: str) -> str:
    """Return the subject stripped; raise Invalid if it is empty, too long or not one line."""
    try:
        value = header_value(subject.strip())
    except ValueError as exc:
        raise Invalid("The subject must be a single line (it contains a line break).") from exc
    if not value:
        raise Invalid("The subject must not be empty.")
    if len(value) > SUBJECT_MAX:
        raise Invalid(f"The subject is {len(value)} characters; the limit is {SUBJECT_MAX}.")
    return value


def preview(*, subject: str, body: str, context: dict) -> tuple[str, str]:
    """Render an edited subject and body with `context`; raise Invalid naming the bad line."""
    rendered_subject = check_subject(_render_one("Subject", subject, context))
    rendered_body = _render_one("Body", body, context)
    if not rendered_body.strip():
        raise Invalid("The body renders to nothing.")
    return rendered_subject, rendered_body


def _row(session: Session, key: str) -> MessageTemplate | None:
    return session.scalar(select(MessageTemplate).where(MessageTemplate.key == key))


def load(*, session: Session, key: str) -> MessageTemplate | DefaultTemplate:
    """Return template `key` as it renders: the admin's version, else the default."""
    row = _row(session, key)
    if row is None and key not in DEFAULT_TEMPLATES:
        raise NotFound(f"No message template {key!r}.")
    return row or DEFAULT_TEMPLATES[key]


def render_loaded(source: MessageTemplate | DefaultTemplate, context: dict) -> tuple[str, str]:
    """Render a template `load` returned into (subject, body); a pass loads it once."""
    return preview(subject=source.subject, body=source.body, context=context)


def render(*, session: Session, key: str, context: dict) -> tuple[str, str]:
    """Render template `key` (the admin's version, else the default) into (subject, body)."""
    return render_loaded(load(session=session, key=key), context)


def _view(key: str, row: MessageTemplate | None) -> TemplateView:
    default = DEFAULT_TEMPLATES.get(key)
    source = row or default
    return TemplateView(
        key=key,
        name=source.name,
        subject=source.subject,
        body=source.body,
        version=row.version if row else 0,
        is_default=row is None,
        variables=VARIABLES.get(key, []),
        updated_at=row.updated_at if row else None,
    )


def list_templates(*, session: Session) -> list[TemplateView]:
    """Return every template: saved rows plus defaults that have no row yet."""
    rows = {r.key: r for r in session.scalars(select(MessageTemplate))}
    keys = sorted(set(rows) | set(DEFAULT_TEMPLATES))
    return [_view(key, rows.get(key)) for key in keys]


def get_template(*, session: Session, key: str) -> TemplateView:
    """Return one template as an admin edits it."""
    row = _row(session, key)
    if row is None and key not in DEFAULT_TEMPLATES:
        raise NotFound(f"No message template {key!r}.")
    return _view(key, row)


def diff_summary(before: str, after: str) -> dict[str, int]:
    """Count the lines an edit added and removed (the audit log keeps sizes, not the text)."""
    added = removed = 0
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        added += line.startswith("+ ")
        removed += line.startswith("- ")
    return {"lines_added": added, "lines_removed": removed}


def save_template(
    *,
    session: Session,
    key: str,
    subject: str,
    body: str,
    expected_version: int,
    actor: UserSummary,
) -> TemplateView:
    """Save an admin's edit after checking it renders; Conflict if someone saved it first."""
    if actor.role != Role.ADMIN:
        raise Forbidden("Only admins can edit message templates.")
    current = get_template(session=session, key=key)
    preview(subject=subject, body=body, context=sample_context(key))
    if current.version != expected_version:
        raise Conflict(_STALE)
    row = _row(session, key)
    if row is None:
        inserted = session.execute(
            insert(MessageTemplate)
            .values(key=key, name=current.name, subject=subject, body=body, updated_by_id=actor.id)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(MessageTemplate.id)
        ).scalar_one_or_none()
        if inserted is None:
            raise Conflict(_STALE)
        row = session.get(MessageTemplate, inserted)
    else:
        row.subject, row.body, row.updated_by_id = subject, body, actor.id
        try:
            session.flush()
        except StaleDataError as exc:
            raise Conflict(_STALE) from exc
    record_audit(
        session=session,
        actor=actor.email,
        actor_user_id=actor.id,
        action="template.update",
        entity_type="message_template",
        entity_id=row.id,
        changes={
            "key": key,
            "subject": [current.subject, subject] if current.subject != subject else None,
            "body": diff_summary(current.body, body),
        },
    )
    return _view(key, row)


_STALE = (
    "Someone else saved this template since you opened it. Their version is loaded now; "
    "make your change again if it is still needed."
)
