"""The house keeps its stack: `directory` (companies, sites, users, sign-in) <- `telephony` <-
`voicemail` and `sipguard` <- the edges `portal` and `ari_bridge`, which never import each other; and no
module of an app imports one that imports it back. Every import counts, wherever it stands: at the
top, inside a function, or under `if TYPE_CHECKING:`. (The bridge's own modules: test_bridge_layout.)"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What each app may import, besides itself: the floors below it.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "directory": frozenset(),
    "telephony": frozenset({"directory"}),
    "voicemail": frozenset({"directory", "telephony"}),
    "sipguard": frozenset({"directory", "telephony"}),
    "portal": frozenset({"directory", "telephony", "voicemail", "sipguard"}),
    "ari_bridge": frozenset({"directory", "telephony", "voicemail", "sipguard"}),
}


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for app in MAY_IMPORT for p in sorted((root / app).rglob("*.py"))}


def imported(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, module or module.name) for every import in `path`, relative ones resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def layer_violations(root: Path) -> list[str]:
    """Each import of an app from an app it may not import, as "file:line app -> module"."""
    found: dict[tuple[str, int], str] = {}
    for name, path in app_modules(root).items():
        app = name.split(".")[0]
        for line, target in imported(path, root):
            other = target.split(".")[0]
            if other in MAY_IMPORT and other != app and other not in MAY_IMPORT[app]:
                where = f"{path.relative_to(root)}:{line}"
                found.setdefault((where, line), f"{where} {app} -> {target}")  # the module, not its names
    return sorted(found.values())


def import_circles(root: Path) -> list[str]:
    """Module circles among the apps' modules, each as "a -> b -> a"."""
    modules = app_modules(root)
    graph = {
        name: sorted({t for _line, t in imported(path, root) if t in modules and t != name})
        for name, path in modules.items()
    }
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    circles: list[str] = []

    def walk(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in graph[name]:
            if state.get(other) == 1:
                circles.append(" -> ".join([*path[path.index(other) :], other]))
            elif other not in state:
                walk(other, [*path, other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    return circles


def test_no_app_imports_an_app_above_it_and_the_edges_never_import_each_other() -> None:
    assert layer_violations(ROOT) == []


def test_no_module_of_the_apps_imports_one_that_imports_it_back() -> None:
    assert import_circles(ROOT) == []


def _plant(root: Path, files: dict[str, str]) -> None:
    for app in MAY_IMPORT:
        (root / app).mkdir()
        (root / app / "__init__.py").write_text("")
    for relative, text in files.items():
        (root / relative).write_text(text)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"directory/colleagues.py": "from telephony.models import Call\n"}, "directory -> telephony.models"),
        (
            {"telephony/queries.py": "def f():\n    from voicemail import models\n"},
            "telephony -> voicemail",
        ),
        (
            {"telephony/x.py": "import typing\nif typing.TYPE_CHECKING:\n    import voicemail.models\n"},
            "telephony -> voicemail.models",
        ),
        ({"portal/views.py": "from ari_bridge import commands\n"}, "portal -> ari_bridge"),
        ({"ari_bridge/app.py": "import portal.urls\n"}, "ari_bridge -> portal.urls"),
        ({"voicemail/x.py": "from sipguard.models import SipBlock\n"}, "voicemail -> sipguard.models"),
    ],
)
def test_a_planted_import_against_the_stack_is_found(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    _plant(tmp_path, files)

    assert [v.split(" ", 1)[1] for v in layer_violations(tmp_path)] == [expected]


def test_a_planted_circle_hidden_in_a_function_is_found(tmp_path: Path) -> None:
    _plant(
        tmp_path,
        {
            "telephony/actions.py": "from .settings import tidy\n",
            "telephony/settings.py": "def f():\n    from . import actions\n",
        },
    )

    assert layer_violations(tmp_path) == []
    assert import_circles(tmp_path) == ["telephony.actions -> telephony.settings -> telephony.actions"]


def test_imports_the_stack_allows_are_not_reported(tmp_path: Path) -> None:
    _plant(
        tmp_path,
        {
            "telephony/models.py": "from directory.models import User\n",
            "voicemail/models.py": "from telephony import models\nfrom directory import models as d\n",
            "portal/views.py": "from voicemail import actions\nfrom sipguard import queries\n",
        },
    )

    assert layer_violations(tmp_path) == []
    assert import_circles(tmp_path) == []
