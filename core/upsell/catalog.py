"""The upsell set-up catalogue: products, their success templates and industry benchmarks.

- **Products** are upserted by code (the CRM's product code); the sync adds unknown codes with
  their CRM name, admins complete them.
- **Success templates** (one per product) say what every plan of the product measures: criteria
  checked by `core/upsell/template_rules.py` against the metrics catalogue, checkpoint days
  (stored sorted, without repeats) and adoption milestones. A change needs the version the editor
  read; someone else's save in between is a Conflict, never a silent overwrite. Plans already
  drafted keep their criteria; new plans and re-plans use the template as saved.
- **Industry benchmarks** are keyed by industry (matched without regard to case, as plans match
  them), segment and metric; the top quartile lies on the metric's better side of the median.
  They cap targets and give a level where there is no baseline (`core/upsell/target_rules.py`).

Every change is audited with what changed; saving the same thing again changes nothing.
"""

import uuid

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core import paging
from core.accounts.models import User
from core.audit.service import record_audit
from core.base import Direction, Segment
from core.customers.models import Metric
from core.errors import Conflict, Invalid, NotFound
from core.schemas import check_text
from core.upsell.catalog_schemas import (
    CODE_LENGTH,
    INDUSTRY_LENGTH,
    BenchmarkIn,
    BenchmarkOut,
    ProductIn,
    ProductOut,
    SuccessTemplateIn,
    SuccessTemplateOut,
)
from core.upsell.models import IndustryBenchmark, Product, SuccessTemplate
from core.upsell.target_rules import segment_words
from core.upsell.template_rules import (
    PERCENT,
    criteria_specs,
    criterion_out,
    milestone_out,
    milestone_specs,
)

PRODUCT_FIELDS = ("name", "family", "list_price")


def _audit(session: Session, actor: str, actor_user_id, action: str, kind: str, ref, changes):
    record_audit(
        session=session,
        actor=actor,
        actor_user_id=actor_user_id,
        action=action,
        entity_type=kind,
        entity_id=ref,
        changes=changes,
    )


def _flush_new(session: Session, row, taken: str) -> None:
    """Insert `row` in a savepoint; Conflict saying `taken` when someone added it meanwhile."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(taken) from exc


# Products ----------------------------------------------------------------------------------


def check_code(code: str) -> str:
    """Return a product code that is one line of 1-64 characters; Invalid naming `code`."""
    if problem := check_text("code", code, max_length=CODE_LENGTH):
        raise Invalid(problem + ".")
    if not code.strip() or code != code.strip():
        raise Invalid("code: must not be empty or start or end with spaces.")
    return code


def _templated(session: Session) -> set[str]:
    return set(session.scalars(select(SuccessTemplate.product_code)))


def _product_out(row: Product, templated: set[str]) -> ProductOut:
    return ProductOut(
        code=row.code,
        name=row.name,
        family=row.family,
        list_price=row.list_price,
        has_template=row.code in templated,
    )


PRODUCTS = paging.Keyset(
    "products.name", ((Product.name, False), (Product.code, False)), (str, str)
)


def list_products(*, session: Session) -> list[ProductOut]:
    """Return every product by name, saying which have a success template."""
    return product_page(session=session)[0]


def product_page(
    *, session: Session, limit: int | None = None, cursor: str | None = None
) -> tuple[list[ProductOut], str | None]:
    """Return products by name (a page of them with `limit`) and the next page's cursor."""
    query = PRODUCTS.select(select(Product), cursor=cursor, limit=limit)
    rows, following = PRODUCTS.cut(list(session.scalars(query)), limit, lambda r: (r.name, r.code))
    templated = _templated(session)
    return [_product_out(row, templated) for row in rows], following


def get_product(*, session: Session, code: str) -> ProductOut:
    """Return one product; NotFound for an unknown code."""
    row = session.get(Product, code)
    if row is None:
        raise NotFound(f"No product with code '{code}'.")
    return _product_out(row, _templated(session))


def save_product(
    *, session: Session, code: str, body: ProductIn, actor: str, actor_user_id=None
) -> tuple[ProductOut, bool]:
    """Create or update the product `code`; True when created. Audited when anything changed."""
    check_code(code)
    given = body.model_dump(exclude_unset=True)
    if "family" in given:
        given["family"] = given["family"] or None
    current = session.get(Product, code, with_for_update=True, populate_existing=True)
    if current is None:
        values = {name: getattr(body, name) for name in PRODUCT_FIELDS} | given
        row = Product(code=code, **values)
        _flush_new(session, row, f"code: product '{code}' was just added by someone else.")
        changes = {n: [None, v] for n, v in values.items()}
        _audit(session, actor, actor_user_id, "product.created", "product", code, changes)
        return _product_out(row, set()), True
    changes = {n: [getattr(current, n), v] for n, v in given.items() if getattr(current, n) != v}
    if changes:
        for name, (_, new) in changes.items():
            setattr(current, name, new)
        session.flush()
        _audit(session, actor, actor_user_id, "product.updated", "product", code, changes)
    return _product_out(current, _templated(session)), False


# Success templates ---------------------------------------------------------------------------


def _template_out(row: SuccessTemplate, product: Product, updated_by: str | None):
    return SuccessTemplateOut(
        product_code=row.product_code,
        product_name=product.name,
        criteria=[criterion_out(c) for c in row.metrics or [] if isinstance(c, dict)],
        checkpoint_days=sorted(row.checkpoint_days or []),
        milestones=[milestone_out(m) for m in row.milestones or [] if isinstance(m, dict)],
        version=row.version,
        updated_at=row.updated_at,
        updated_by=updated_by,
    )


TEMPLATES = paging.Keyset(
    "success_templates.product", ((Product.name, False), (Product.code, False)), (str, str)
)


def _templates(
    session: Session, *conditions, limit: int | None = None, cursor: str | None = None
) -> tuple[list[SuccessTemplateOut], str | None]:
    query = (
        select(SuccessTemplate, Product, User.email)
        .join(Product, Product.code == SuccessTemplate.product_code)
        .outerjoin(User, User.id == SuccessTemplate.updated_by_id)
        .where(*conditions)
        .execution_options(populate_existing=True)
    )
    rows = list(session.execute(TEMPLATES.select(query, cursor=cursor, limit=limit)))
    rows, following = TEMPLATES.cut(rows, limit, lambda r: (r.Product.name, r.Product.code))
    return [_template_out(t, p, email) for t, p, email in rows], following


def list_templates(*, session: Session) -> list[SuccessTemplateOut]:
    """Return every success template, by product name."""
    return _templates(session)[0]


def template_page(
    *, session: Session, limit: int | None = None, cursor: str | None = None
) -> tuple[list[SuccessTemplateOut], str | None]:
    """Return success templates by product name (a page with `limit`) and the next cursor."""
    return _templates(session, limit=limit, cursor=cursor)


def get_template(*, session: Session, product_code: str) -> SuccessTemplateOut:
    """Return one product's template; NotFound for an unknown product or one without a template."""
    found, _ = _templates(session, SuccessTemplate.product_code == product_code)
    if found:
        return found[0]
    product = session.get(Product, product_code)
    if product is None:
        raise NotFound(f"No product with code '{product_code}'.")
    raise NotFound(f"{product.name} has no success template yet.")


def _stale(product: Product, version: int) -> str:
    return (
        f"version: someone else saved the success template of {product.name} since you opened "
        f"it (it is now version {version}). Load it again and make your change there."
    )


def save_template(
    *,
    session: Session,
    product_code: str,
    body: SuccessTemplateIn,
    actor: str,
    actor_user_id: uuid.UUID | None = None,
) -> tuple[SuccessTemplateOut, bool]:
    """Create or update a product's template (an update needs the stored version); True if new."""
    product = session.get(Product, product_code)
    if product is None:
        raise NotFound(f"No product with code '{product_code}'; add the product first.")
    keys = {c.metric_key for c in body.criteria if c.metric_key}
    catalog = {m.key: m for m in session.scalars(select(Metric).where(Metric.key.in_(keys)))}
    criteria = criteria_specs(body.criteria, catalog)
    days = sorted(set(body.checkpoint_days))
    milestones = milestone_specs(body.milestones, criteria, days[-1])
    values = {"metrics": criteria, "checkpoint_days": days, "milestones": milestones}
    current = session.scalar(
        select(SuccessTemplate)
        .where(SuccessTemplate.product_code == product_code)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if current is None:
        if body.version:
            raise Conflict(
                f"version: {product.name} has no success template to change (version "
                f"{body.version} is gone); leave version out to create one."
            )
        row = SuccessTemplate(product_code=product_code, updated_by_id=actor_user_id, **values)
        _flush_new(session, row, _stale(product, 1))
        changes = {n: [None, v] for n, v in values.items()}
        _audit(
            session, actor, actor_user_id, "template.created", "success_template", row.id, changes
        )
        return get_template(session=session, product_code=product_code), True
    if body.version is None:
        raise Conflict(
            f"version: {product.name} already has a success template (version "
            f"{current.version}); send the version you read to change it."
        )
    if body.version != current.version:
        raise Conflict(_stale(product, current.version))
    changes = {n: [getattr(current, n), v] for n, v in values.items() if getattr(current, n) != v}
    if changes:
        for name, (_, new) in changes.items():
            setattr(current, name, new)
        current.updated_by_id = actor_user_id
        try:
            session.flush()
        except StaleDataError as exc:
            raise Conflict(_stale(product, current.version)) from exc
        changes["version"] = [body.version, current.version]
        _audit(
            session,
            actor,
            actor_user_id,
            "template.updated",
            "success_template",
            current.id,
            changes,
        )
    return get_template(session=session, product_code=product_code), False


# Industry benchmarks -----------------------------------------------------------------------


def _benchmark_query():
    return select(
        IndustryBenchmark,
        Metric.name.label("metric_name"),
        Metric.unit,
        Metric.direction,
        Metric.is_money,
    ).join(Metric, Metric.key == IndustryBenchmark.metric_key)


def _benchmark_out(row) -> BenchmarkOut:
    b = row.IndustryBenchmark
    return BenchmarkOut(
        id=b.id,
        industry=b.industry,
        segment=b.segment,
        metric_key=b.metric_key,
        metric_name=row.metric_name,
        unit=row.unit,
        direction=row.direction,
        is_money=row.is_money,
        median=b.median,
        top_quartile=b.top_quartile,
    )


SEGMENT_ORDER = case(
    {Segment.SMB.value: 0, Segment.MID_MARKET.value: 1}, value=IndustryBenchmark.segment, else_=2
)
BENCHMARKS = paging.Keyset(
    "benchmarks.industry",
    (
        (func.lower(IndustryBenchmark.industry), False),
        (Metric.name, False),
        (SEGMENT_ORDER, False),
        (IndustryBenchmark.id, False),
    ),
    (str, str, int, uuid.UUID),
)


def list_benchmarks(
    *,
    session: Session,
    industry: str | None = None,
    segment: Segment | None = None,
    metric_key: str | None = None,
) -> list[BenchmarkOut]:
    """Return the benchmarks that match every filter given, by industry, metric and segment."""
    return benchmark_page(
        session=session, industry=industry, segment=segment, metric_key=metric_key
    )[0]


def benchmark_page(
    *,
    session: Session,
    industry: str | None = None,
    segment: Segment | None = None,
    metric_key: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[BenchmarkOut], str | None]:
    """Return the matching benchmarks (a page with `limit`) and the next page's cursor."""
    # The database's lower() goes into the cursor: Python's may fold some letters differently.
    stmt = _benchmark_query().add_columns(
        func.lower(IndustryBenchmark.industry).label("folded"),
        SEGMENT_ORDER.label("segment_order"),
    )
    if industry:
        stmt = stmt.where(func.lower(IndustryBenchmark.industry) == industry.strip().lower())
    if segment:
        stmt = stmt.where(IndustryBenchmark.segment == Segment(segment))
    if metric_key:
        stmt = stmt.where(IndustryBenchmark.metric_key == metric_key)
    rows = list(session.execute(BENCHMARKS.select(stmt, cursor=cursor, limit=limit)))
    rows, following = BENCHMARKS.cut(
        rows,
        limit,
        lambda r: (
            r.folded,
            r.metric_name,
            r.segment_order,
            r.IndustryBenchmark.id,
        ),
    )
    return [_benchmark_out(r) for r in rows], following


def _locate(session: Session, industry: str, segment: Segment, metric_key: str, lock: bool):
    stmt = select(IndustryBenchmark).where(
        func.lower(IndustryBenchmark.industry) == industry.lower(),
        IndustryBenchmark.segment == segment,
        IndustryBenchmark.metric_key == metric_key,
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt.execution_options(populate_existing=True))


def check_industry(industry: str) -> str:
    """Return an industry name (one line, 1-80 characters); Invalid naming `industry`."""
    if problem := check_text("industry", industry, max_length=INDUSTRY_LENGTH):
        raise Invalid(problem + ".")
    if not industry.strip():
        raise Invalid("industry: must not be empty.")
    return industry.strip()


def check_benchmark(metric: Metric, body: BenchmarkIn) -> None:
    """Refuse a top quartile on the worse side of the median, or a percentage beyond 0-100."""
    if metric.unit.strip() == PERCENT:
        for field, value in (("median", body.median), ("topQuartile", body.top_quartile)):
            if not 0 <= value <= 100:
                raise Invalid(f"{field}: must be between 0 and 100 for a percentage.")
    higher = Direction(metric.direction) == Direction.HIGHER
    if body.top_quartile < body.median if higher else body.top_quartile > body.median:
        word, side, where = ("below", "higher", "above") if higher else ("above", "lower", "below")
        raise Invalid(
            f"topQuartile: must not be {word} the median ({body.median.normalize():f}) for "
            f"{metric.name}: {side} is better, so the top quarter lies {where} it."
        )


def save_benchmark(
    *,
    session: Session,
    industry: str,
    segment: Segment,
    metric_key: str,
    body: BenchmarkIn,
    actor: str,
    actor_user_id=None,
) -> tuple[BenchmarkOut, bool]:
    """Create or update the benchmark of (industry, segment, metric); True when created."""
    industry = check_industry(industry)
    segment = Segment(segment)
    metric = session.get(Metric, metric_key)
    if metric is None:
        raise Invalid(f"metricKey: unknown metric '{metric_key}'; add it to the catalogue first.")
    check_benchmark(metric, body)
    values = {"industry": industry, "median": body.median, "top_quartile": body.top_quartile}
    current = _locate(session, industry, segment, metric_key, lock=True)
    ref = dict(industry=industry, segment=segment.value, metric_key=metric_key)
    if current is None:
        row = IndustryBenchmark(segment=segment, metric_key=metric_key, **values)
        _flush_new(session, row, "industry: this benchmark was just added by someone else.")
        changes = ref | {"median": [None, body.median], "top_quartile": [None, body.top_quartile]}
        _audit(
            session,
            actor,
            actor_user_id,
            "benchmark.created",
            "industry_benchmark",
            row.id,
            changes,
        )
        created, row_id = True, row.id
    else:
        changes = {
            n: [getattr(current, n), v] for n, v in values.items() if getattr(current, n) != v
        }
        if changes:
            for name, (_, new) in changes.items():
                setattr(current, name, new)
            session.flush()
            _audit(
                session,
                actor,
                actor_user_id,
                "benchmark.updated",
                "industry_benchmark",
                current.id,
                ref | changes,
            )
        created, row_id = False, current.id
    row = session.execute(_benchmark_query().where(IndustryBenchmark.id == row_id)).one()
    return _benchmark_out(row), created


def delete_benchmark(
    *,
    session: Session,
    industry: str,
    segment: Segment,
    metric_key: str,
    actor: str,
    actor_user_id=None,
) -> None:
    """Delete the benchmark of (industry, segment, metric); NotFound when there is none."""
    current = _locate(session, industry.strip(), Segment(segment), metric_key, lock=True)
    if current is None:
        raise NotFound(
            f"No benchmark of '{metric_key}' for {segment_words(segment)} customers in the "
            f"industry '{industry.strip()}'."
        )
    session.delete(current)
    session.flush()
    changes = {
        "industry": current.industry,
        "segment": current.segment.value,
        "metric_key": metric_key,
        "median": [current.median, None],
        "top_quartile": [current.top_quartile, None],
    }
    _audit(
        session,
        actor,
        actor_user_id,
        "benchmark.deleted",
        "industry_benchmark",
        current.id,
        changes,
    )
