"""The server's packages depend on each other one way only: an AST walk over
server/polysync_batch builds the graph of imports between its subpackages (domain, service,
watch, aws, api, …) and fails on any cycle, naming it. Imports under `if TYPE_CHECKING:` count
too: a type-only cycle is still a tangle."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "polysync_batch"
ROOT = "polysync_batch"


def _part(module: str) -> str | None:
    """The subpackage (or top-level module) of polysync_batch a dotted name belongs to."""
    parts = module.split(".")
    return parts[1] if parts[0] == ROOT and len(parts) > 1 else None


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
    return found


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _part(_module_name(path))
        if source is None:
            continue
        edges = graph.setdefault(source, set())
        for module in _imports(path):
            target = _part(module)
            if target is not None and target != source:
                edges.add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_between_the_server_packages():
    graph = package_graph()
    assert {"domain", "service", "watch", "aws", "api"} <= set(graph)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle)
