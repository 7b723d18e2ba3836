"""The main pages in Ukrainian, as a brand's team in Ukraine sees them: a browser whose language is uk-UA gets
the interface in Ukrainian without asking (sign in, campaigns, live results, an upload with a problem, the
call log, the node page), dates as Ukrainians write them, numbers of things in the right plural form, the
server's own messages in Ukrainian too; the language menu switches to Russian or English and is remembered.
The tenant "ukr" and its SMS campaign on 4646 are this module's own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ..integration.api.conftest import lease, make_key, wait_for
from ..integration.test_sms import sms
from .conftest import Site, browser_page, screenshot

pytestmark = pytest.mark.integration

CAMPAIGN = """id: kava-vote
name: Найкраща кава міста
numbers: {sms: ["4646"]}
languages: [uk]
start: choose
nodes:
  choose:
    type: ask
    prompt: "Оберіть каву: 1 — лате, 2 — капучино, 3 — еспресо."
    choices:
      - {key: "1", value: лате, next: cast}
      - {key: "2", value: капучино, next: cast}
      - {key: "3", value: еспресо, next: cast}
    save_as: choice
    retries: 1
    nomatch_prompt: "Надішліть 1, 2 або 3."
    max_retries: bye
  cast: {type: vote, name: coffee, value: "{{choice}}", next: thanks, repeat: bye}
  thanks: {type: end, text: "Дякуємо, ваш голос за {{choice}} зараховано."}
  bye: {type: end, text: "До побачення."}
"""
MONTHS = "січ|лют|бер|квіт|трав|черв|лип|серп|вер|жовт|лист|груд"
UK_DATE = re.compile(rf"^\d{{1,2}} ({MONTHS})\. \d{{4}}\s?р\., \d{{2}}:\d{{2}}:\d{{2}}$")   # 7 груд. 2026 р., 05:36:12
# Latin words a Ukrainian page may show: names of formats, protocols and the campaign's own ids and data
ALLOWED = {"SMS", "SMSC", "SIP", "CSV", "API", "YAML", "JSON", "SHA", "IVR", "ivr", "keys", "create", "kava", "vote",
           "coffee", "choose", "cast", "thanks", "bye", "ukr", "English"}


@pytest.fixture(scope="module")
def ukr(site: Site) -> dict[str, str]:
    """The tenant's keys, its number leased, its campaign uploaded and in service, and five SMS votes from
    five callers."""
    keys = {role: make_key(site.engine, "ukr", role) for role in ("business", "operator")}
    lease(site.engine, "ukr", "4646")
    site.api("/api/campaigns/kava-vote/versions?activate=1", keys["business"], CAMPAIGN)
    return keys


@pytest.fixture
def uk_page(browser: Browser) -> Page:
    """A browser set to Ukrainian (navigator.languages uk-UA) in Kyiv."""
    with browser_page(browser, "uk-UA", "Europe/Kyiv") as page:
        yield page


def latin_words(page: Page) -> list[str]:
    """Words in Latin letters on the page (header and main), other than the allowed ones: English left over."""
    text = page.locator("header").inner_text() + "\n" + page.locator("main").inner_text()
    lines = text.splitlines()
    return sorted({f"{w} in “{' / '.join(lines[max(0, i - 2):i + 1])}”" for i, line in enumerate(lines)
                   for w in re.findall(r"[A-Za-z][A-Za-z']+", line) if w not in ALLOWED})


def sign_in_uk(page: Page, site: Site, key: str) -> None:
    page.goto(site.url)
    page.get_by_label("API-ключ").fill(key)
    page.get_by_role("button", name="Увійти").click()
    expect(page.get_by_role("navigation", name="Головне меню")).to_be_visible()


def test_the_main_pages_in_ukrainian(uk_page: Page, site: Site, ukr: dict[str, str], tmp_path: Path) -> None:
    page = uk_page
    page.goto(site.url)
    expect(page.get_by_role("heading", name="Вхід")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "uk"
    expect(page.get_by_label("Мова")).to_have_value("uk")
    expect(page.locator("#key-help")).to_contain_text("Ключ починається з ivr_")
    assert latin_words(page) == []
    page.get_by_label("API-ключ").fill("ivr_wrong_key")
    page.get_by_role("button", name="Увійти").click()
    expect(page.get_by_role("alert")).to_have_text("Цей ключ не прийнято. Перевірте, що ви скопіювали його повністю "
                                                   "і що його не відкликали.")

    sign_in_uk(page, site, ukr["business"])
    expect(page.get_by_role("heading", name="Кампанії")).to_be_visible()
    row = page.locator("tbody tr").filter(has_text="Найкраща кава міста")
    expect(row).to_contain_text("4646")
    expect(row).to_contain_text("версія 1 з 1")
    expect(row.locator(".state")).to_have_text("Працює")
    for header in ("Кампанія", "Короткі номери", "У роботі", "Стан", "Дії"):
        expect(page.get_by_role("columnheader", name=header)).to_be_visible()
    assert latin_words(page) == []
    screenshot(page, tmp_path, "campaigns-uk")                   # drawn as a page, Cyrillic and all

    # live results: SMS votes counted while the page is open, in the plural forms of Ukrainian
    page.get_by_role("link", name="Найкраща кава міста", exact=True).click()
    expect(page.get_by_role("heading", name="Найкраща кава міста")).to_be_visible()
    expect(page.locator(".live").first).to_have_text("Наживо")
    expect(page.get_by_text("Ще нічого не пораховано.")).to_be_visible()
    assert sms(site.engine, "+380671000001", "4646", "привіт", "uk-0")[0] == 200
    assert sms(site.engine, "+380671000001", "4646", "1", "uk-1")[1]["replies"] == [
        "Дякуємо, ваш голос за лате зараховано."]
    expect(page.get_by_role("heading", name="Голоси: coffee")).to_be_visible()
    card = page.locator("section.card").filter(has=page.get_by_role("heading", name="Голоси: coffee"))
    total = card.locator(".total")
    expect(total).to_have_text("Усього: 1 голос")
    for n, choice in enumerate(["2", "1", "3", "1"], start=2):
        sms(site.engine, f"+38067100000{n}", "4646", "вітаю", f"uk-{n}a")
        sms(site.engine, f"+38067100000{n}", "4646", choice, f"uk-{n}b")
    expect(total).to_have_text("Усього: 5 голосів")
    expect(page.locator("li.bar").filter(has_text="лате")).to_have_attribute("aria-label", "лате: 3 голоси")
    expect(page.get_by_role("heading", name="Сценарій")).to_be_visible()
    expect(page.locator('svg.flow g.node[data-node="choose"] .node-type')).to_have_text("Питання · choose")

    # a server message in Ukrainian: this campaign has no draws
    page.get_by_role("link", name="Розіграші").click()
    page.get_by_role("button", name="Зафіксувати учасників").click()
    expect(page.get_by_role("alert")).to_have_text(
        "у файлі кампанії нічого не сказано про розіграші: додайте draw: {entries: ...} (docs/dialplans.md)")

    # an upload with a problem: the problem in Ukrainian under its line
    page.get_by_role("navigation", name="Головне меню").get_by_role("link", name="Завантажити кампанію").click()
    page.get_by_label("Або вставте текст файлу").fill(CAMPAIGN.replace("repeat: bye", "repeat: byebye"))
    page.get_by_role("button", name="Лише перевірити файл").click()
    expect(page.get_by_role("heading", name="У файлі 1 помилка")).to_be_visible()
    expect(page.locator(".issues li")).to_have_text(['Рядок 18 — nodes.cast.repeat: невідомий крок "byebye"'])
    expect(page.locator("tr.line-issue td")).to_have_text('⚠ nodes.cast.repeat: невідомий крок "byebye"')
    expect(page.locator("tr.line-issue th")).to_have_text("Помилка в рядку 18")
    expect(page.get_by_role("heading", name="Файл у вигляді схеми")).to_be_visible()

    # the call log: dates as written in Ukraine, counts in the right form
    page.get_by_role("navigation", name="Головне меню").get_by_role("link", name="Журнал дзвінків").click()
    expect(page.get_by_role("heading", name="Журнал дзвінків")).to_be_visible()
    expect(page.get_by_text("Показано 1–5 з 5 дзвінків")).to_be_visible()
    screenshot(page, tmp_path, "calls-uk")
    started = page.locator("tbody tr td:first-child").first.inner_text()
    assert UK_DATE.match(started), started
    assert page.locator("tbody tr").first.locator("td").nth(4).inner_text() == "SMS"
    expect(page.locator("tbody tr").first).to_contain_text("Завершено")
    page.get_by_label("Номер абонента").fill("+380671000001")
    page.get_by_role("button", name="Показати дзвінки").click()
    expect(page.get_by_text("Показано 1–1 з 1 дзвінка")).to_be_visible()
    assert latin_words(page) == []
    page.locator("tbody tr a").first.click()
    expect(page.get_by_role("heading", name="SMS-діалог від +380671000001 на 4646")).to_be_visible()
    for said in ("Абонент надіслав «1»", "Розпізнано як «лате»", "Голос зараховано"):
        expect(page.locator(".timeline")).to_contain_text(said)
    expect(page.get_by_role("heading", name="Що обрав абонент")).to_be_visible()
    expect(page.locator("section li").filter(has_text="coffee")).to_have_text("Голос coffee: лате")
    expect(page.locator(".facts")).to_contain_text("Як завершився")


def test_the_node_page_in_ukrainian(uk_page: Page, site: Site, ukr: dict[str, str]) -> None:
    page = uk_page
    sign_in_uk(page, site, ukr["operator"])
    page.get_by_role("navigation", name="Головне меню").get_by_role("link", name="Цей сервер").click()
    expect(page.get_by_role("heading", name="Цей сервер")).to_be_visible()
    expect(page.locator(".node-state")).to_have_text("Приймає дзвінки")
    for heading in ("Дзвінки зараз", "Дзвінки за хвилину", "SMS за хвилину", "Помилки", "Реєстрація транку"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.locator('[data-key="store-online"]')).to_have_text("так")
    expect(page.locator("#sms-per-minute .summary").last).to_contain_text("За останню годину отримано")
    assert latin_words(page) == []


def test_the_language_menu_switches_and_is_remembered(uk_page: Page, site: Site, ukr: dict[str, str]) -> None:
    page = uk_page
    sign_in_uk(page, site, ukr["business"])
    expect(page.get_by_role("heading", name="Кампанії")).to_be_visible()
    page.get_by_label("Мова").select_option(label="Русский")
    expect(page.get_by_role("heading", name="Кампании")).to_be_visible()            # the page reloads in Russian
    expect(page.get_by_role("navigation", name="Главное меню").get_by_role("link",
           name="Журнал звонков")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Кампании")).to_be_visible()            # remembered
    assert page.evaluate("document.documentElement.lang") == "ru"
    page.get_by_label("Язык").select_option(label="English")
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    wait_for(lambda: page.evaluate("localStorage.getItem('ivr.lang')") == "en")
