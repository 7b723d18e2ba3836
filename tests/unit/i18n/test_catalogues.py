"""Every string a person reads has its Ukrainian and Russian translation: the gettext catalogues of the server
(API errors, CSV headers, reports) and the web UI's JSON catalogues. These fail when a string is added
without its translations (scripts/i18n check lists the same), so a page merged from another branch shows
what is left to translate."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from ivr.i18n import LANGUAGES
from ivr.i18n.completeness import UI_CATALOGS, gettext_problems, ui_catalog, ui_problems
from ivr.i18n.extract import code_catalog

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "ivr"
STATIC = PACKAGE / "web" / "static"
UI_SOURCES = sorted((STATIC / "js").rglob("*.js")) + [STATIC / "index.html"]
KEY = re.compile(r'"([a-z]+(?:\.[A-Za-z0-9_]+)+)"')
CALLED = re.compile(r'\btn?\(\s*"([^"]+)"')
# exceptions whose message a person reads (API answers): built from t()/tn(), never from a bare string
READ_BY_PEOPLE = {"ApiError", "NotFound", "Conflict", "StoreError", "DrawError"}


def test_every_gettext_message_has_ukrainian_and_russian() -> None:
    assert gettext_problems() == []


def test_the_check_sees_a_message_without_translation(monkeypatch: pytest.MonkeyPatch) -> None:
    """The completeness check is not vacuous: a message the code gained without a translation is reported."""
    from ivr.i18n import completeness
    catalog = code_catalog()
    catalog.add("a message nobody translated yet", locations=[("ivr/new_page.py", 1)])
    monkeypatch.setattr(completeness, "code_catalog", lambda: catalog)
    problems = completeness.gettext_problems()
    assert any("uk/LC_MESSAGES/ivr.po: no translation of 'a message nobody translated yet'" in p for p in problems)
    assert any("ru/LC_MESSAGES/ivr.po: no translation of 'a message nobody translated yet'" in p for p in problems)
    assert any("ivr.pot: not listed" in p for p in problems)


def test_the_code_has_messages_to_translate() -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in code_catalog() if m.id}
    assert {"no campaign {campaign!r}", "missing, unknown or revoked API key", "{n} minute"} <= ids


def test_every_ui_key_is_in_every_language() -> None:
    assert ui_problems() == []


def test_the_ui_check_sees_a_missing_key_and_a_missing_plural_form(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ivr.i18n import completeness
    for language in LANGUAGES:
        data = ui_catalog(language)
        if language == "en":
            data["billing.title"] = "Numbers and tariffs"
        if language == "uk":
            data["unit.call"] = {k: v for k, v in data["unit.call"].items() if k != "few"}
        (tmp_path / f"{language}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(completeness, "UI_CATALOGS", tmp_path)
    problems = completeness.ui_problems()
    assert "ivr/web/static/i18n/uk.json: no translation of 'billing.title' ('Numbers and tariffs')" in problems
    assert "ivr/web/static/i18n/ru.json: no translation of 'billing.title' ('Numbers and tariffs')" in problems
    assert any("uk.json: 'unit.call' needs the plural forms" in p for p in problems)


def test_ukrainian_and_russian_plurals_have_three_forms_and_read_naturally() -> None:
    uk, ru = ui_catalog("uk"), ui_catalog("ru")
    assert [uk["unit.call"][form].format(n=n) for form, n in (("one", 1), ("few", 2), ("many", 5))] == [
        "1 дзвінок", "2 дзвінки", "5 дзвінків"]
    assert [ru["unit.call"][form].format(n=n) for form, n in (("one", 1), ("few", 2), ("many", 5))] == [
        "1 звонок", "2 звонка", "5 звонков"]


def _ui_source() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in UI_SOURCES)


def test_every_key_the_pages_ask_for_is_in_the_catalogue() -> None:
    english = ui_catalog("en")
    source = _ui_source()
    called = set(CALLED.findall(source))
    # keys kept in tables (t(STATES[state])): every such literal with a known area must exist as well
    areas = {key.split(".")[0] for key in english}
    listed = {key for key in KEY.findall(source) if key.split(".")[0] in areas
              and not re.search(r"\.(csv|json|js)$", key)
              and not re.search(rf'"{re.escape(key)}"\s*:', source)}          # not an object's own key
    assert sorted((called | listed) - set(english)) == []


def test_every_catalogue_key_is_used_by_a_page() -> None:
    used = set(KEY.findall(_ui_source())) | {m for m in re.findall(r'data-i18n="([^"]+)"', _ui_source())}
    assert sorted(set(ui_catalog("en")) - used) == []


def test_ui_catalogues_are_valid_json_with_the_same_keys() -> None:
    keys = {language: set(json.loads((UI_CATALOGS / f"{language}.json").read_text(encoding="utf-8")))
            for language in LANGUAGES}
    assert keys["uk"] == keys["en"] == keys["ru"]


def _english_sentences(path: Path) -> list[str]:
    """Literal text in a view that looks like words for people: a capital letter, then a word and a space
    (`"Show calls"`, `"No calls yet."`), in a string or a template literal."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^\s*//.*$|/\*\*?[\s\S]*?\*/", "", text, flags=re.M)      # comments
    found = re.findall(r'"([A-Z][a-z]+[ ,][^"]*)"|`([A-Z][a-z]+[ ,][^`]*)`', text)
    return [a or b for a, b in found if not (a or b).startswith(("Bearer ", "Content-"))]


@pytest.mark.parametrize("path", sorted((STATIC / "js").rglob("*.js")), ids=lambda p: p.name)
def test_pages_have_no_english_written_inline(path: Path) -> None:
    """New pages put their words in the catalogue (docs/i18n.md), not in the code."""
    assert _english_sentences(path) == []


def test_the_inline_check_sees_inline_english(tmp_path: Path) -> None:
    page = tmp_path / "billing.js"
    page.write_text('root.append(h("h1", {}, "Numbers and tariffs"), h("p", {}, `Tariff of ${n}`));\n'
                    '// A comment in English is fine\n')
    assert _english_sentences(page) == ["Numbers and tariffs", "Tariff of ${n}"]


def _bare_messages(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in READ_BY_PEOPLE:
            message = node.args[1] if node.func.id == "ApiError" and len(node.args) > 1 else (
                node.args[0] if node.func.id != "ApiError" and node.args else None)
            if isinstance(message, (ast.Constant, ast.JoinedStr, ast.BinOp)) or (
                    isinstance(message, ast.Call) and isinstance(message.func, ast.Attribute)
                    and message.func.attr == "format"):
                out.append(f"{path.relative_to(root)}:{node.lineno}")
    return out


def test_errors_people_read_are_catalogue_messages() -> None:
    """ApiError and the store's errors take t("...") (translated when answered), never a bare or f-string."""
    found = [place for path in sorted((PACKAGE / "web").rglob("*.py")) + sorted((PACKAGE / "store").rglob("*.py"))
             + sorted((PACKAGE / "engine").rglob("*.py")) + [PACKAGE / "flow" / "draw.py"]
             for place in _bare_messages(path)]
    assert found == []


def test_the_error_check_sees_a_bare_message(tmp_path: Path) -> None:
    module = tmp_path / "tariffs.py"
    module.write_text('raise ApiError(400, "tariff must be a number")\nraise Conflict(f"number {n} is taken")\n'
                      'raise ApiError(400, t("fine"))\n')
    assert _bare_messages(module, tmp_path) == ["tariffs.py:1", "tariffs.py:2"]
