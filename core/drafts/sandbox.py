"""Render admin-edited templates in a sandboxed Jinja2 that keeps to budgets while it renders.

The sandbox keeps a template away from Python's internals; the budgets keep it from spending the
process. A render may run at most `LOOP_ITERATIONS` loop iterations (all loops together, so
nested loops multiply into the same count) and `CALLS` calls (macros, functions, methods). No
text or list it builds may exceed the render's limit (the most the message may hold), checked
before the value is made where an operation can grow one (`*`, `+`, `~`, `%`, `**`, the growing
filters) and after it otherwise; output is counted as it streams, so a template that writes too
much stops at the limit instead of after building the whole text. `WORK` caps the characters a
render may build or read in all, so a loop cannot redo a large legal step ten thousand times.
Recursive loops are refused (their inner levels would escape the loop count), and so are the
string methods that grow text (`ljust`, `replace`, `format` …): the `center`, `replace`, `join`
and `format` filters do the same within budget.
"""

import contextvars
import functools
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sized
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

from core.errors import Invalid

LOOP_ITERATIONS = 10_000
CALLS = 10_000
WORK = 5_000_000  # characters built or inspected per render, all steps together
RANGE_MAX = 1_000  # loops in an email template never need more; keeps renders cheap
INT_BITS = 256  # whole numbers a template computes stay below 2**256
SMALL = 16  # what a number, date or other scalar counts for when sized as text
COMPILED_KEPT = 64  # compiled template sources kept (subjects and bodies of every template key)

# str methods that can make a longer string than they were given; the filters replace them.
GROWING_METHODS = frozenset(
    {"center", "expandtabs", "format", "format_map", "join", "ljust", "replace", "rjust"}
    | {"translate", "maketrans", "zfill"}
)
DROPPED_FILTERS = frozenset({"urlize"})  # builds HTML links; message templates are plain text


class BudgetExceeded(Exception):
    """A template went past one of its render budgets."""


@dataclass
class _Budget:
    limit: int  # characters: of the output, and of any one value the template builds
    loops: int = 0
    calls: int = 0
    output: int = 0
    work: int = 0

    def charge(self, amount: int) -> None:
        self.work += amount
        if self.work > WORK:
            raise BudgetExceeded(
                f"the template builds or reads more than {WORK:,} characters in all "
                "(a loop repeating a large step?); simplify it"
            )

    def allow(self, size: int, what: str) -> None:
        if size > self.limit:
            raise BudgetExceeded(
                f"{what} would be longer than {self.limit:,} characters, the most a message "
                "may hold"
            )
        self.charge(size)


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "template_budget", default=None
)


def _budget() -> _Budget:
    budget = _BUDGET.get()
    if budget is None:  # e.g. constant folding at compile time: evaluated at render time instead
        raise RuntimeError("templates are rendered only through render_text()")
    return budget


def _size(value: Any, budget: _Budget) -> int:
    """Return how long `value` is as text, stopping once past the limit; charge what it reads."""
    total, stack = 0, [value]
    while stack and total <= budget.limit:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += max(len(item), 1)
        elif isinstance(item, Mapping):
            total += 2 + 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif isinstance(item, Namespace):  # prints as its attributes
            stack.append(object.__getattribute__(item, "_Namespace__attrs"))
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3 + 1
        else:
            total += SMALL
    budget.charge(total)
    return total


def _shallow(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict | set) else 1


def _fits(value: Any, what: str) -> Any:
    """Return `value` once its own length (not its contents') is within budget."""
    _budget().allow(_shallow(value), what)
    return value


def _fits_as_text(value: Any, what: str) -> Any:
    """Return `value` once it is known to fit as text, contents included."""
    budget = _budget()
    budget.allow(_size(value, budget), what)
    return value


# Growth checks, before an operation builds its value ------------------------------------------

_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _printf_size(template: str, args: Any, budget: _Budget) -> int:
    size = len(template) + _size(args, budget)
    for width, precision in _PRINTF.findall(template):
        if "*" in (width, precision):
            raise BudgetExceeded("'*' widths are not allowed in % formatting; write the number")
        size += int(width or 0) + int(precision or 0)
    return size


_TOO_LARGE = f"a whole number in the template would reach 2**{INT_BITS} or more"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _binop_size(operator: str, left: Any, right: Any, budget: _Budget) -> int:
    both_ints = _is_int(left) and _is_int(right)
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and _is_int(times):
                return len(seq) * max(times, 0)
        if both_ints and left.bit_length() + right.bit_length() > INT_BITS:
            raise BudgetExceeded(_TOO_LARGE)
    elif operator == "**":
        if both_ints and abs(left) > 1 and right > 0 and left.bit_length() * right > INT_BITS:
            raise BudgetExceeded(_TOO_LARGE)
    elif operator == "+":
        if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            return len(left) + len(right)
    elif operator == "%" and isinstance(left, str):
        return _printf_size(left, right, budget)
    return 0


def _arguments(func: Callable, args: tuple, kwargs: dict) -> dict[str, Any]:
    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _replace_size(a: dict, budget: _Budget) -> int:
    s, old, new = _text(a["s"]), str(a["old"]), str(a["new"])
    hits = s.count(old) if old else len(s) + 1
    if _is_int(a["count"]) and a["count"] >= 0:
        hits = min(hits, a["count"])
    return len(s) + hits * max(len(new) - len(old), 0)


def _indent_size(a: dict, budget: _Budget) -> int:
    s, width = _text(a["s"]), a["width"]
    pad = len(width) if isinstance(width, str) else max(width, 0) if _is_int(width) else 0
    return len(s) + (s.count("\n") + 1) * pad


def _join_size(a: dict, budget: _Budget) -> int:
    value, glue = a["value"], str(a["d"])
    count = len(value) if isinstance(value, Mapping | list | tuple | str) else 0
    return count * len(glue) + _size(value, budget)


def _wordwrap_size(a: dict, budget: _Budget) -> int:
    s = _text(a["s"])
    return len(s) * (1 + len(str(a["wrapstring"] or "\n")))


def _count_size(name: str) -> Callable[[dict, _Budget], int]:
    return lambda a, budget: a[name] if _is_int(a[name]) else 0


# Filters whose result can be far longer than their input: the size they would build.
_FILTER_SIZES: dict[str, Callable[[dict, _Budget], int]] = {
    "center": _count_size("width"),
    "indent": _indent_size,
    "join": _join_size,
    "replace": _replace_size,
    "wordwrap": _wordwrap_size,
    "batch": _count_size("linecount"),
    "slice": _count_size("slices"),
    "format": lambda a, budget: _printf_size(_text(a["value"]), a["args"] or a["kwargs"], budget),
    "sum": lambda a, budget: _size(a["iterable"], budget) + _size(a["start"], budget),
}
# Filters sized by their input's contents: a lazy input (map, select …) is listed first.
_SIZED_INPUT = frozenset({"join", "sum"})
# Filters that turn a whole structure into text: its contents must fit first.
_TEXT_FILTERS = frozenset(
    {"string", "tojson", "pprint", "e", "escape", "forceescape", "urlencode", "xmlattr"}
)


def _budgeted_filter(name: str, func: Callable) -> Callable:
    size = _FILTER_SIZES.get(name)
    passes = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(func)  # keeps jinja's pass_context/pass_environment marks
    def run(*args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        what = f"the result of the {name} filter"
        if name in _SIZED_INPUT and len(args) > passes and not isinstance(args[passes], Sized):
            args = (*args[:passes], list(args[passes]), *args[passes + 1 :])  # e.g. map's output
        if size is not None:
            budget.allow(size(_arguments(func, args, kwargs), budget), what)
        elif name in _TEXT_FILTERS and len(args) > passes:
            _fits_as_text(args[passes], what)
        return _fits(func(*args, **kwargs), what)

    return run


# The environment and the code it compiles -----------------------------------------------------


def _is_loop_items(node: nodes.Node) -> bool:
    """Return True for the call that counts a for loop's items (templates cannot write it)."""
    return (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.EnvironmentAttribute)
        and node.node.name == "loop_items"
    )


class _BudgetedCode(CodeGenerator):
    """Jinja's code generator with the budget's hooks: loops, buffers and `~`."""

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.output_buffer()")

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if node.recursive:
            self.fail("recursive loops are not allowed in message templates", node.lineno)
        if not _is_loop_items(node.iter):
            node.iter = nodes.Call(
                nodes.EnvironmentAttribute("loop_items"), [node.iter], [], None, None
            ).set_lineno(node.iter.lineno)
        super().visit_For(node, frame)

    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        if not _is_loop_items(node):  # a template's own call: through the sandbox, counted
            super().visit_Call(node, frame, forward_caller=forward_caller)
            return
        self.write("environment.loop_items(")
        self.visit(node.args[0], frame)
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.joined((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Buffer(list):
    """The text a macro, call, filter or set block collects, held to the budget as it grows."""

    size = 0

    def append(self, item: str) -> None:
        self._grow(len(item))
        super().append(item)

    def extend(self, items: Iterable[str]) -> None:
        items = tuple(items)
        self._grow(sum(len(i) for i in items))
        super().extend(items)

    def _grow(self, amount: int) -> None:
        self.size += amount
        _budget().allow(self.size, "a block of the template's text")


def _small_range(*args: int) -> range:
    values = range(*args)
    if len(values) > RANGE_MAX:
        raise OverflowError(f"range() is limited to {RANGE_MAX} items in templates")
    return values


def _printable(value: Any) -> Any:
    return _fits_as_text(value, "a printed value")


class BudgetedSandbox(ImmutableSandboxedEnvironment):
    """A sandbox for plain-text templates whose every render keeps to a `_Budget`."""

    code_generator_class = _BudgetedCode
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(autoescape=False, undefined=StrictUndefined, finalize=_printable)
        self.globals.pop("lipsum", None)  # makes as much filler text as asked
        self.globals["range"] = _small_range
        self.filters = {
            name: _budgeted_filter(name, func)
            for name, func in self.filters.items()
            if name not in DROPPED_FILTERS
        }

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in GROWING_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _budget()
        budget.allow(_binop_size(operator, left, right, budget), f"the result of '{operator}'")
        return _fits(super().call_binop(context, operator, left, right), f"'{operator}'")

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.calls += 1
        if budget.calls > CALLS:
            raise BudgetExceeded(
                f"the template makes more than {CALLS:,} calls (macros, functions, methods)"
            )
        return _fits(super().call(context, obj, *args, **kwargs), "the result of a call")

    @staticmethod
    def loop_items(iterable: Iterable) -> Iterator:
        budget = _budget()
        for item in iterable:
            budget.loops += 1
            if budget.loops > LOOP_ITERATIONS:
                raise BudgetExceeded(
                    f"the template runs more than {LOOP_ITERATIONS:,} loop iterations "
                    "(nested loops multiply); keep its loops small"
                )
            yield item

    @staticmethod
    def output_buffer() -> _Buffer:
        return _Buffer()

    @staticmethod
    def joined(parts: tuple) -> str:
        budget = _budget()
        budget.allow(sum(_size(p, budget) for p in parts), "the result of '~'")
        return "".join(map(str, parts))


_ENV = BudgetedSandbox()


def _template_line(exc: BaseException) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_text(*, part: str, source: str, context: dict, limit: int) -> str:
    """Render `source` with `context` within the budgets; Invalid naming `part` and the line.

    `limit` is the most characters the output, and any one value built on the way, may have.
    """
    if len(source) > limit:
        raise Invalid(
            f"{part}: the template is {len(source):,} characters; the limit is {limit:,}."
        )
    try:
        return _render(_compiled(source), context, limit)
    except TemplateSyntaxError as exc:
        raise Invalid(f"{part}, line {exc.lineno}: {exc.message}") from exc
    except Exception as exc:  # anything a template can raise: budgets, undefined, sandbox, types
        line = _template_line(exc)
        where = f"{part}, line {line}" if line else part
        raise Invalid(f"{where}: {exc}") from exc


@functools.lru_cache(maxsize=COMPILED_KEPT)
def _compiled(source: str) -> Template:
    """Compile `source` once: a pass renders the same template for every item."""
    # Compiled outside any budget, so nothing is folded at compile time: every render pays its own.
    return _ENV.from_string(source)


def _render(template: Template, context: dict, limit: int) -> str:
    budget = _Budget(limit=limit)
    token = _BUDGET.set(budget)
    try:
        chunks = []
        with closing(template.generate(context)) as stream:
            for chunk in stream:
                budget.output += len(chunk)
                if budget.output > limit:
                    raise BudgetExceeded(f"renders to more than {limit:,} characters (the limit)")
                chunks.append(chunk)
        return "".join(chunks)
    finally:
        _BUDGET.reset(token)
