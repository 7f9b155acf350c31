"""The set-up catalogue: metrics, products, success templates and industry benchmarks.

Any key reads; only admin keys write (integrations that keep the catalogue in step with another
system use an admin key). Writes are audited under `api:<key name>` and the key.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from sqlalchemy.orm import Session

from app.deps import ANY_ROLE, get_read_session, get_session, require_roles
from app.paging import PAGED, CursorParam, Limit, next_page
from app.routes.goals import errors
from app.routing import SharedPathRoute
from core.accounts.models import ApiKey
from core.base import Role, Segment
from core.customers.catalog import get_metric, metric_page, save_metric
from core.customers.catalog_schemas import KEY_PATTERN, KEY_RULE, MetricIn, MetricOut
from core.schemas import Forgiving, SingleLine
from core.upsell.catalog import (
    benchmark_page,
    delete_benchmark,
    get_product,
    get_template,
    product_page,
    save_benchmark,
    save_product,
    save_template,
    template_page,
)
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

router = APIRouter(prefix="/api", tags=["catalog"], route_class=SharedPathRoute)

READ = "Any key role may read."
PAGES = "With `limit`, a page of them and the next page's `cursor` in the `X-Next-Cursor` header."
WRITE = "Admin keys only."
UPSERT = (
    "201 when created, 200 when updated or unchanged (the same body again changes nothing). "
    "Optional fields left out keep their stored value."
)
NOT_ADMIN = "The key is not an admin key"
MetricKey = Annotated[
    SingleLine,
    Path(
        alias="key",
        min_length=1,
        max_length=64,
        description=f"The metric's key: {KEY_RULE}; pattern `{KEY_PATTERN}`",
    ),
]
BenchmarkMetric = Annotated[
    SingleLine, Path(alias="metricKey", min_length=1, max_length=64, description="A metric key")
]
ProductCode = Annotated[
    SingleLine,
    Path(
        alias="code",
        min_length=1,
        max_length=CODE_LENGTH,
        description="The product code, as the CRM's line items carry it",
    ),
]
TemplateProduct = Annotated[
    SingleLine,
    Path(alias="productCode", min_length=1, max_length=CODE_LENGTH, description="A product code"),
]
Industry = Annotated[
    SingleLine,
    Path(
        min_length=1,
        max_length=INDUSTRY_LENGTH,
        description="As customers' industry reads (compared without regard to case)",
    ),
]


def _actor(key: ApiKey) -> dict:
    return {"actor": f"api:{key.name}", "actor_user_id": key.user_id}


def _created(response: Response, created: bool) -> None:
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK


# Metrics --------------------------------------------------------------------------------------


@router.get(
    "/metrics",
    response_model=list[MetricOut],
    summary="List the metrics catalogue",
    description=f"Every metric by name, with what already uses it; with `limit`, a page of them "
    f"and the next page's `cursor` in the `X-Next-Cursor` header. {READ}",
    responses=errors({422: "A bad limit or cursor (field named)"}) | PAGED,
)
def metrics(
    response: Response,
    limit: Limit = None,
    cursor: CursorParam = None,
    _: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> list[MetricOut]:
    """Return every metric (or a page of them)."""
    found, following = metric_page(session=session, limit=limit, cursor=cursor)
    next_page(response, following)
    return found


@router.get(
    "/metrics/{key}",
    response_model=MetricOut,
    summary="Read one metric",
    description=READ,
    responses=errors({404: "No metric has this key"}),
)
def metric(
    key: MetricKey,
    _: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> MetricOut:
    """Return the metric `key`."""
    return get_metric(session=session, key=key)


@router.put(
    "/metrics/{key}",
    response_model=MetricOut,
    summary="Create or update a metric",
    description=f"{UPSERT} Once usage observations, goals, upsell plans, industry benchmarks or "
    "success templates use the metric (`usedBy`), its unit and direction are fixed (409): a "
    "change would alter what the stored numbers mean; add a metric with a new key instead. "
    f"{WRITE}",
    responses=errors(
        {
            403: NOT_ADMIN,
            409: "A new unit or direction for a metric in use, e.g. 'direction: Weekly active "
            "users already has usage observations and goals; …', or another request added the "
            "same key at the same moment",
            422: f"Invalid body (field named), or a key that is not {KEY_RULE}",
        }
    )
    | {201: {"model": MetricOut, "description": "Created"}},
)
def put_metric(
    key: MetricKey,
    body: MetricIn,
    response: Response,
    api_key: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_session),
) -> MetricOut:
    """Upsert the metric `key`."""
    saved, created = save_metric(session=session, key=key, body=body, **_actor(api_key))
    _created(response, created)
    return saved


# Products -------------------------------------------------------------------------------------


@router.get(
    "/products",
    response_model=list[ProductOut],
    summary="List products",
    description=f"Every product by name; `hasTemplate` says whether plans have criteria for it. "
    f"{PAGES} {READ}",
    responses=errors({422: "A bad limit or cursor (field named)"}) | PAGED,
)
def products(
    response: Response,
    limit: Limit = None,
    cursor: CursorParam = None,
    _: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> list[ProductOut]:
    """Return every product (or a page of them)."""
    found, following = product_page(session=session, limit=limit, cursor=cursor)
    next_page(response, following)
    return found


@router.get(
    "/products/{code}",
    response_model=ProductOut,
    summary="Read one product",
    description=READ,
    responses=errors({404: "No product has this code"}),
)
def product(
    code: ProductCode,
    _: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> ProductOut:
    """Return the product `code`."""
    return get_product(session=session, code=code)


@router.put(
    "/products/{code}",
    response_model=ProductOut,
    summary="Create or update a product",
    description=f"{UPSERT} {WRITE}",
    responses=errors(
        {
            403: NOT_ADMIN,
            409: "Another request added the same product at the same moment",
            422: "Invalid body or code (field named)",
        }
    )
    | {201: {"model": ProductOut, "description": "Created"}},
)
def put_product(
    code: ProductCode,
    body: ProductIn,
    response: Response,
    api_key: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_session),
) -> ProductOut:
    """Upsert the product `code`."""
    saved, created = save_product(session=session, code=code, body=body, **_actor(api_key))
    _created(response, created)
    return saved


# Success templates ----------------------------------------------------------------------------


@router.get(
    "/success-templates",
    response_model=list[SuccessTemplateOut],
    summary="List success templates",
    description=f"Every product's template, by product name. {PAGES} {READ}",
    responses=errors({422: "A bad limit or cursor (field named)"}) | PAGED,
)
def templates(
    response: Response,
    limit: Limit = None,
    cursor: CursorParam = None,
    _: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> list[SuccessTemplateOut]:
    """Return every success template (or a page of them)."""
    found, following = template_page(session=session, limit=limit, cursor=cursor)
    next_page(response, following)
    return found


@router.get(
    "/success-templates/{productCode}",
    response_model=SuccessTemplateOut,
    summary="Read a product's success template",
    description=READ,
    responses=errors({404: "No product has this code, or it has no template yet"}),
)
def template(
    product_code: TemplateProduct,
    _: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> SuccessTemplateOut:
    """Return the success template of `productCode`."""
    return get_template(session=session, product_code=product_code)


@router.put(
    "/success-templates/{productCode}",
    response_model=SuccessTemplateOut,
    summary="Create or replace a product's success template",
    description="201 when created, 200 when updated or unchanged. The body is the whole "
    "template. Each criterion reads a metric of the catalogue (`metricKey`; its type, unit "
    "and direction are the metric's) or is measured by hand (`unit` and `target` required). "
    "Targets are drafted per plan from the customer's baseline at close: `uplift` 0.15 aims "
    "15% beyond it (above when higher is better, below when lower is better), "
    "`upliftBySegment` sets it per segment; `target` is the level without a baseline and the "
    "fixed target (1) of a met-or-not criterion (unit `met`). Milestones watch a criterion "
    "(`criterion` name or `metricKey`) reaching a `threshold` or a `share` of the way to "
    "target by `dueDay`, at most the last checkpoint day. Changing a template needs the "
    "`version` you read. Plans already drafted keep their criteria. " + WRITE,
    responses=errors(
        {
            403: NOT_ADMIN,
            404: "No product has this code",
            409: "The version is stale (someone saved the template since it was read) or "
            "missing for an existing template",
            422: "Invalid body (field named), e.g. 'criteria[1].metricKey: unknown metric …'",
        }
    )
    | {201: {"model": SuccessTemplateOut, "description": "Created"}},
)
def put_template(
    product_code: TemplateProduct,
    body: SuccessTemplateIn,
    response: Response,
    api_key: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_session),
) -> SuccessTemplateOut:
    """Create or replace the success template of `productCode`."""
    saved, created = save_template(
        session=session, product_code=product_code, body=body, **_actor(api_key)
    )
    _created(response, created)
    return saved


# Industry benchmarks --------------------------------------------------------------------------


@router.get(
    "/benchmarks",
    response_model=list[BenchmarkOut],
    summary="List industry benchmarks",
    description=f"Every filter given must match; `industry` ignores case. By industry, metric "
    f"and segment. {PAGES} {READ}",
    responses=errors({422: "A filter, the limit or the cursor is invalid"}) | PAGED,
)
def benchmarks(
    response: Response,
    industry: Annotated[SingleLine | None, Query(max_length=INDUSTRY_LENGTH)] = None,
    segment: Forgiving[Segment] | None = None,
    metric: Annotated[SingleLine | None, Query(max_length=64, description="A metric key")] = None,
    limit: Limit = None,
    cursor: CursorParam = None,
    _: ApiKey = Depends(require_roles(*ANY_ROLE)),
    session: Session = Depends(get_read_session),
) -> list[BenchmarkOut]:
    """Return the benchmarks matching the filters (or a page of them)."""
    found, following = benchmark_page(
        session=session,
        industry=industry,
        segment=segment,
        metric_key=metric,
        limit=limit,
        cursor=cursor,
    )
    next_page(response, following)
    return found


BENCHMARK = "/benchmarks/{industry}/{segment}/{metricKey}"


@router.put(
    BENCHMARK,
    response_model=BenchmarkOut,
    summary="Create or update an industry benchmark",
    description="201 when created, 200 when updated or unchanged. `median` and `topQuartile` "
    "are in the metric's unit; the top quartile may not be on the worse side of the median "
    "(below it when higher is better, above it when lower is better), and percentages lie "
    "within 0-100. Plans cap targets at the top quartile and use the median as the level "
    "where there is no baseline. An existing benchmark of the same industry spelled in other "
    f"case is updated (and takes this spelling). {WRITE}",
    responses=errors(
        {
            403: NOT_ADMIN,
            409: "Another request added the same benchmark at the same moment",
            422: "Invalid body or path (field named): unknown metricKey, a top quartile on "
            "the worse side of the median, a percentage beyond 0-100",
        }
    )
    | {201: {"model": BenchmarkOut, "description": "Created"}},
)
def put_benchmark(
    industry: Industry,
    segment: Forgiving[Segment],
    metric_key: BenchmarkMetric,
    body: BenchmarkIn,
    response: Response,
    api_key: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_session),
) -> BenchmarkOut:
    """Upsert the benchmark of `industry`, `segment` and `metricKey`."""
    saved, created = save_benchmark(
        session=session,
        industry=industry,
        segment=segment,
        metric_key=metric_key,
        body=body,
        **_actor(api_key),
    )
    _created(response, created)
    return saved


@router.delete(
    BENCHMARK,
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete an industry benchmark",
    description=f"Plans drafted later no longer use it; plans already drafted keep their targets. "
    f"{WRITE}",
    responses=errors({403: NOT_ADMIN, 404: "No such benchmark"}),
)
def remove_benchmark(
    industry: Industry,
    segment: Forgiving[Segment],
    metric_key: BenchmarkMetric,
    api_key: ApiKey = Depends(require_roles(Role.ADMIN)),
    session: Session = Depends(get_session),
) -> Response:
    """Delete the benchmark of `industry`, `segment` and `metricKey`."""
    delete_benchmark(
        session=session,
        industry=industry,
        segment=segment,
        metric_key=metric_key,
        **_actor(api_key),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
