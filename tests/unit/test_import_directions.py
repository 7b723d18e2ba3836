"""The house's dependency directions, read from every module's imports (`import` and `from`, relative ones
resolved, those under `if TYPE_CHECKING:` too): cli/web -> engine -> channels -> flow, media, speech, sip,
store; `i18n` (the interface's languages) is below them all. A module importing against the direction
fails this test with its file and line."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ivr"

# package -> the packages of ivr it must never import
FORBIDDEN = {
    "flow": {"engine", "web", "channels", "store", "sip", "media", "speech", "node"},
    "sip": {"engine", "web", "channels", "store", "flow", "media", "speech", "node"},
    "media": {"engine", "web", "channels", "store", "flow", "sip", "speech", "node"},
    "speech": {"engine", "web", "channels", "store", "node"},
    "store": {"engine", "web", "channels", "node"},
    "channels": {"engine", "web", "node"},
    "engine": {"web", "node"},
    "i18n": {"engine", "web", "channels", "store", "flow", "sip", "media", "speech", "node"},   # used by every layer
}


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every ivr module `path` imports."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
    return [(line, name) for line, name in out if name == "ivr" or name.startswith("ivr.")]


def layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    wrong = [f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
             for path in sorted((PACKAGE / package).rglob("*.py"))
             for line, name in imported(path) if layer(name) in FORBIDDEN[package]]
    assert wrong == []


def test_the_check_sees_relative_and_type_checking_imports() -> None:
    assert "ivr.engine.view" in {name for _, name in imported(PACKAGE / "web" / "app.py")}     # TYPE_CHECKING
    assert "ivr.engine.call" in {name for _, name in imported(PACKAGE / "engine" / "engine.py")}  # from .call
    assert "ivr.web.api.core" in {name for _, name in imported(PACKAGE / "web" / "api" / "operator.py")}
