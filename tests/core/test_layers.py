"""The shape of `core`: domain packages depend on each other in one direction only."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"

# The intended order, lowest first: a package may import only packages listed before it.
ORDER = (
    "audit",  # a leaf: the writes of accounts (people, keys) are audited
    "accounts",
    "integrations",
    "outbox",
    "customers",
    "drafts",
    "goals",
    "records",
    "repository",
    "marketing",
    "documentation",
    "upsell",
    "reporting",
)
# Root modules every package may use; `core.models` only gathers every table for Alembic.
ROOT = {
    "base",
    "db",
    "embedded",
    "errors",
    "schemas",
    "settings",
    "formatting",
    "upsert",
    "models",
    "paging",
}


def _modules():
    for path in sorted(CORE.rglob("*.py")):
        yield path, ast.parse(path.read_text(), filename=str(path))


def _package(path: Path) -> str | None:
    parts = path.relative_to(CORE).parts
    return parts[0] if len(parts) > 1 else None


def _core_imports(tree: ast.AST):
    """Yield (node, imported core package or root module) for every import of core."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = node.module.split(".")
            if names[0] == "core" and len(names) > 1:
                yield node, names[1]
            elif names[0] == "core":
                for alias in node.names:
                    yield node, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                names = alias.name.split(".")
                if names[0] == "core" and len(names) > 1:
                    yield node, names[1]


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path, tree in _modules():
        package = _package(path)
        if package is None:
            continue
        graph.setdefault(package, set())
        for _, target in _core_imports(tree):
            if target != package and target not in ROOT:
                graph[package].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_finds_a_cycle_when_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_cycle_between_core_packages():
    assert _cycle(_graph()) is None


def test_every_package_is_placed_in_the_order():
    assert set(_graph()) <= set(ORDER), "add new packages to ORDER (and the README)"


@pytest.mark.parametrize("package", ORDER)
def test_packages_import_only_lower_ones(package):
    allowed = set(ORDER[: ORDER.index(package)])
    upward = _graph().get(package, set()) - allowed
    assert not upward, f"core.{package} imports {sorted(upward)}, which sit above it"


def test_no_lazy_core_imports():
    lazy = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner, _ in _core_imports(node):
                    lazy.append(f"{path.relative_to(CORE)}:{inner.lineno}")
    assert not lazy, f"imports of core inside functions: {lazy}"


def test_core_never_imports_streamlit():
    found = [
        str(path.relative_to(CORE))
        for path, tree in _modules()
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.Import) and any(a.name.startswith("streamlit") for a in node.names)
        )
        or (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("streamlit"))
    ]
    assert not found
