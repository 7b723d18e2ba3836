"""The flow interpreter stays pure: nothing in `ivr.flow` imports SIP, the channels, the engine, the
web side, the store, media or speech, nor any network or process library, directly or through
another module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FLOW = ROOT / "ivr" / "flow"
FORBIDDEN = ("ivr.sip", "ivr.channels", "ivr.web", "ivr.engine", "ivr.store", "ivr.media", "ivr.speech",
             "aiohttp", "asyncio", "socket", "http", "sqlalchemy", "subprocess")


def imported(source: str, package: str) -> set[str]:
    """Every module a source imports (relative imports resolved against `package`), functions included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def forbidden(names: set[str]) -> list[str]:
    return sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in FORBIDDEN))


def test_the_walker_sees_every_kind_of_import() -> None:
    source = "import aiohttp.web\nfrom ..channels import sms\ndef f():\n    from ivr.sip import ua\n"
    assert forbidden(imported(source, "ivr.flow")) == ["aiohttp.web", "ivr.channels", "ivr.channels.sms",
                                                       "ivr.sip", "ivr.sip.ua"]
    assert forbidden(imported("from . import templates\nimport jsonschema\n", "ivr.flow")) == []


@pytest.mark.parametrize("path", sorted(FLOW.glob("*.py")), ids=lambda p: p.name)
def test_flow_module_imports_nothing_impure(path: Path) -> None:
    assert forbidden(imported(path.read_text(encoding="utf-8"), "ivr.flow")) == []


def test_importing_all_of_ivr_flow_loads_none_of_them() -> None:
    probe = ("import importlib, pkgutil, sys, ivr.flow\n"
             "for m in pkgutil.iter_modules(ivr.flow.__path__): importlib.import_module('ivr.flow.' + m.name)\n"
             "print('\\n'.join(sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    loaded = set(run.stdout.split())
    assert "ivr.flow.interpreter" in loaded and forbidden(loaded) == []
