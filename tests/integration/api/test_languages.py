"""The API answers people in their language: error messages in Ukrainian, Russian or English by `?lang=` or
`Accept-Language` (English without either, so programs see what they always saw), JSON keys unchanged;
CSV files keep their column keys unless `?lang=` asks for headers people read."""

from __future__ import annotations

import csv
import io

import pytest

from ivr.web.api.columns import LABELS

from ..test_sms import sms
from .conftest import demo_node, make_key

pytestmark = pytest.mark.integration
UK = {"Accept-Language": "uk-UA,uk;q=0.9,en;q=0.5"}


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with demo_node(tmp_path_factory.mktemp("languages")) as started:
        yield started


def test_errors_in_ukrainian_russian_or_english(node) -> None:
    engine, api, business, _ = node
    refused = api("GET", "/api/campaigns", headers=dict(UK))
    assert refused.status == 401 and refused.headers["Content-Language"] == "uk"
    assert refused.json() == {"error": "API-ключ відсутній, невідомий або відкликаний",
                              "hint": "надішліть заголовок Authorization: Bearer КЛЮЧ"}
    english = api("GET", "/api/campaigns")
    assert english.json()["error"] == "missing, unknown or revoked API key"
    assert english.headers["Content-Language"] == "en"

    missing = api("GET", "/api/campaigns/nope/versions?lang=ru", business, headers=dict(UK))   # ?lang= wins
    assert (missing.status, missing.json()) == (404, {"error": "нет кампании 'nope'"})
    assert api("GET", "/api/nowhere", business, headers={"Accept-Language": "ru"}).json() == {
        "error": "такого адреса API нет"}

    live = api("POST", "/api/campaigns/talent-vote/archive", business, headers=dict(UK))     # the store's Conflict
    assert live.status == 409
    assert live.json()["error"] == ("кампанія 'talent-vote' працює: призупиніть або завершіть її, "
                                    "перш ніж архівувати")
    operator = make_key(engine, "demo", "operator")
    forbidden = api("POST", "/api/campaigns/talent-vote/pause", operator, headers=dict(UK))
    assert forbidden.json()["error"] == "роль «оператор» не має доступу до цієї адреси API"


def test_an_invalid_campaign_file_in_ukrainian(node) -> None:
    _, api, business, _ = node
    reply = api("POST", "/api/dialplans/validate", business, text="id: x\nname: X\nnodes: {}\n",
                content_type="application/yaml", headers=dict(UK))
    assert reply.status == 422
    body = reply.json()
    assert body["error"] == "файл кампанії містить помилки"
    assert set(body) == {"error", "issues", "diagram"} and body["issues"]                 # keys stay as they were


def test_csv_headers_are_keys_unless_a_language_is_asked_for(node) -> None:
    engine, api, _, operator = node
    assert sms(engine, "+380671234567", "5050", "hello", "lang-1")[0] == 200
    plain = api("GET", "/api/calls.csv", operator, headers=dict(UK))         # Accept-Language alone: keys
    assert plain.body.decode("utf-8").splitlines()[0].startswith("call_id,channel,caller,")
    ukrainian = api("GET", "/api/calls.csv?lang=uk", operator)
    text = ukrainian.body.decode("utf-8")
    assert text.startswith("\ufeff") and ukrainian.headers["Content-Language"] == "uk"     # Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:4] == ["Дзвінок", "Канал", "Абонент", "Абонент (як отримано)"]
    assert "+380671234567" in rows[1]                                        # the cells are the same
    russian = api("GET", "/api/campaigns/satisfaction-survey/outcomes.csv?lang=ru", operator)
    assert russian.body.decode("utf-8").removeprefix("\ufeff").splitlines()[0] == (
        "Идентификатор,Звонок,Кампания,Абонент,Канал,Вид,Название,Значение,Состояние,Время")


def test_every_column_of_every_export_has_a_label() -> None:
    from dataclasses import fields

    from ivr.store import CallSummary, OutcomeView
    from ivr.store.contacts import Contact
    from ivr.web.api.draws import WINNER_COLUMNS
    columns = {f.name for kind in (CallSummary, OutcomeView, Contact) for f in fields(kind)} | set(WINNER_COLUMNS)
    assert sorted(columns - set(LABELS)) == []
