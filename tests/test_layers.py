"""The package map in helpers/__init__.py is true: every module imports only modules listed before it."""

import ast
from pathlib import Path

import helpers

PACKAGE = Path(helpers.__file__).parent

# The order of the package docstring's map.
ORDER = [
    "validation",
    "runtime",
    "published",
    "claims",
    "theory",
    "fourier",
    "bitnet",
    "activations",
    "data",
    "schedules",
    "selection",
    "models",
    "metrics",
    "controls",
    "train",
    "modular",
    "sae",
    "phase",
    "dynamics",
    "criteria",
    "checks",
    "plotting",
]


def top_level_module(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """The helpers modules (top level) that the file at ``path`` (or ``source``, as if it were there) imports."""
    found = set()
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    for node in ast.walk(ast.parse(path.read_text() if source is None else source)):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = list(parts[: len(parts) - node.level])  # the package the relative import starts from
            targets = [base + node.module.split(".")] if node.module else [[*base, alias.name] for alias in node.names]
            found |= {target[0] for target in targets if target}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers."):
            found.add(node.module.split(".")[1])
    return found


def test_every_module_is_on_the_map():
    modules = {top_level_module(path) for path in PACKAGE.rglob("*.py")} - {"__init__"}
    assert modules == set(ORDER)


def test_every_module_imports_only_modules_listed_before_it():
    for path in PACKAGE.rglob("*.py"):
        module = top_level_module(path)
        if module == "__init__":
            continue
        for imported in imported_modules(path) - {module}:
            assert ORDER.index(imported) < ORDER.index(module), f"{path.relative_to(PACKAGE)} imports {imported}"


def test_the_check_sees_upward_imports():
    # The check above must be able to fail: relative imports of later modules are found, from a module and
    # from a subpackage's module.
    assert "plotting" in imported_modules(PACKAGE / "metrics.py", "from .plotting import style\n")
    assert "checks" in imported_modules(PACKAGE / "modular" / "model.py", "from .. import checks\n")
    assert "plotting" in imported_modules(PACKAGE / "modular" / "model.py", "from ..plotting.style import guide\n")
