"""The bridge keeps its shape: no module imports one that imports it back (lazy and TYPE_CHECKING
imports included), no module over about 600 lines, and the edges of the house stay apart."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ari_bridge"
MAX_LINES = 610


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def bridge_imports(path: Path) -> set[str]:
    """The ari_bridge modules `path` imports, wherever the import stands in it."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    return {name for name in found if name in modules and name != module_name(path)}


def test_no_module_of_the_bridge_imports_one_that_imports_it_back() -> None:
    graph = {module_name(p): bridge_imports(p) for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    seen: dict[str, int] = {}  # 1: on the path being walked, 2: done

    def walk(name: str, path: list[str]) -> None:
        seen[name] = 1
        for other in sorted(graph.get(name, ())):
            if other not in graph:
                continue
            assert seen.get(other) != 1, f"import circle: {' -> '.join([*path, other])}"
            if other not in seen:
                walk(other, [*path, other])
        seen[name] = 2

    for name in sorted(graph):
        if name not in seen:
            walk(name, [name])


def test_no_module_of_the_bridge_is_over_about_600_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_bridge_and_the_portal_never_import_each_other() -> None:
    for edge, other in (("ari_bridge", "portal"), ("portal", "ari_bridge")):
        for path in (ROOT / edge).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom) and not node.level
                    else []
                )
                assert not any(n == other or n.startswith(f"{other}.") for n in names), (
                    f"{path} imports {other}"
                )
