"""The layout rules of docs/architecture.md, checked on the source: who may import whom,
one import name, folders and modules of a size a reader can take in."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The four folders installed under the one import name ``sellerdesk``.
FOLDERS = ("bot", "faq", "handlers", "storage")
#: Modules in one folder at most (``__init__`` and ``conftest`` not counted).
MAX_MODULES = 15
#: Lines a module may have without saying at its top why it is longer.
MAX_LINES = 500
LONG_REASON = "Longer than ~500 lines on purpose"


def _python_files(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute, at any depth of the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _imports_any(path: Path, prefixes: tuple[str, ...]) -> list[str]:
    return sorted(
        name
        for name in _imports(path)
        if any(name == p or name.startswith(p + ".") for p in prefixes)
    )


# Which top-level part may not import which (app and cli may import everything).
FORBIDDEN = {
    "faq": (
        "telegram",
        "sqlalchemy",
        "sellerdesk.bot",
        "sellerdesk.storage",
        "sellerdesk.handlers",
    ),
    "storage": ("telegram", "sellerdesk.bot", "sellerdesk.faq", "sellerdesk.handlers"),
    "bot": ("sellerdesk.handlers", "sellerdesk.app", "sellerdesk.cli"),
    "handlers": ("sellerdesk.app", "sellerdesk.cli"),
    "bench": ("tests",),
    "testing": ("tests",),
}


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_no_part_imports_what_the_layout_forbids(folder: str) -> None:
    wrong = {
        str(path.relative_to(ROOT)): bad
        for path in _python_files(folder)
        if (bad := _imports_any(path, FORBIDDEN[folder]))
    }
    assert wrong == {}


def test_everything_imports_the_project_by_its_one_name() -> None:
    # A bare ``import bot`` would load a second copy of the module next to
    # ``sellerdesk.bot`` (and collide with any other package named ``bot``).
    wrong = {
        str(path.relative_to(ROOT)): bad
        for path in _python_files(*FOLDERS, "sellerdesk/cli", "tests", "testing", "bench")
        if (bad := _imports_any(path, FOLDERS))
    }
    assert wrong == {}


def test_the_one_import_name_links_the_four_folders() -> None:
    for folder in FOLDERS:
        link = ROOT / "sellerdesk" / folder
        assert link.is_symlink() and link.resolve() == ROOT / folder


def test_no_folder_holds_more_modules_than_a_reader_takes_in() -> None:
    crowded = {}
    for folder in (*FOLDERS, "sellerdesk", "testing", "tests", "bench"):
        for directory in [ROOT / folder, *(p for p in (ROOT / folder).rglob("*") if p.is_dir())]:
            if directory.is_symlink() or "__pycache__" in directory.parts:
                continue
            modules = [p for p in directory.glob("*.py") if p.stem not in ("__init__", "conftest")]
            if len(modules) > MAX_MODULES:
                crowded[str(directory.relative_to(ROOT))] = len(modules)
    assert crowded == {}


def test_a_long_module_says_why_at_its_top() -> None:
    unexplained = {}
    for path in _python_files(*FOLDERS, "sellerdesk/cli", "testing", "bench", "tests"):
        text = path.read_text("utf-8")
        lines = text.count("\n")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if lines > MAX_LINES and LONG_REASON not in doc:
            unexplained[str(path.relative_to(ROOT))] = lines
    assert unexplained == {}
