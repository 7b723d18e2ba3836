"""Numbers, tariffs and money in the UI: an administrator adds a number, leases it to tenant "shop" and puts
a premium tariff on shop's campaign; SMS to it from two operators are charged; shop sees its numbers, its
statement (revenue, its share, the lines) and its campaign's money by day; the administrator sees every
tenant's month. Only this module uses tenant "shop" and number 4747."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone

import pytest
from playwright.sync_api import Page, expect

from ivr.store.money import BILLING_ZONE

from ..integration.test_sms import sms
from .conftest import Site, sign_in

pytestmark = pytest.mark.integration

SHOP_VOTE = ('id: shop-vote\nname: Shop vote\nnumbers: {sms: ["4747"]}\nstart: thanks\n'
             'nodes:\n  thanks: {type: end, text: Thank you for your vote.}\n')


@pytest.fixture(scope="module")
def shop(site: Site) -> str:
    """A business key of tenant "shop" (made over the API, as the tenants page does)."""
    admin = site.keys["ops", "admin"]
    tenant = site.api("/api/tenants", admin, json.dumps({"name": "shop"}), "application/json")
    return site.api(f"/api/tenants/{tenant['id']}/keys", admin, json.dumps({"role": "business"}),
                    "application/json")["key"]


def menu(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def test_an_administrator_leases_a_number_and_prices_its_campaign(page: Page, site: Site, shop: str) -> None:
    today = datetime.now(BILLING_ZONE).date().isoformat()
    sign_in(page, site, site.keys["ops", "admin"])
    menu(page, "Numbers")
    expect(page.get_by_role("heading", name="Number inventory")).to_be_visible()
    page.get_by_label("Number (3 or 4 digits)").fill("4747")
    page.get_by_label("Class").select_option("golden")
    page.get_by_label("Monthly fee, UAH without VAT").fill("1500.00")
    page.get_by_role("button", name="Add number").click()
    expect(page.get_by_text("Number 4747 is in the inventory.")).to_be_visible()
    row = page.locator("tbody tr", has_text="4747")
    expect(row).to_contain_text("Golden")
    expect(row).to_contain_text("1500.00 UAH a month")
    expect(row).to_contain_text("Free")
    row.get_by_label("Tenant (4747)").select_option(label="shop")
    row.get_by_label("First day (4747)").fill(today)
    row.get_by_role("button", name="Lease").click()
    expect(page.get_by_text("Number 4747 is leased to shop.")).to_be_visible()
    expect(page.locator("tbody tr", has_text="4747")).to_contain_text(f"shop: SMS and calls, {today} – until ended")
    page.get_by_label("Show", exact=True).select_option("free")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"#/inventory\?state=free$"))
    expect(page.locator("tbody tr", has_text="4747")).to_have_count(0)

    # shop's campaign claims the number it now leases
    site.api("/api/campaigns/shop-vote/versions?activate=1", shop, SHOP_VOTE)

    menu(page, "Tariffs")
    page.get_by_label("Tenant", exact=True).select_option(label="shop")
    page.get_by_label("Campaign", exact=True).select_option(label="Shop vote")
    page.get_by_label("Premium price, UAH with VAT").fill("12.00")
    page.get_by_label(re.compile("Business’s share by operator")).fill("kyivstar 45\nvodafone 40")
    page.get_by_role("button", name="Put in force").click()
    expect(page.get_by_text(re.compile(r"Tariff \d+ takes effect at "))).to_be_visible()
    row = page.locator("tbody tr", has_text="Shop vote")
    expect(row).to_contain_text("12.00 UAH per message with VAT")
    expect(row).to_contain_text("kyivstar 45 %, vodafone 40 %")

    page.get_by_label("Premium price, UAH with VAT").fill("60.00")            # above the market's 50 UAH
    page.get_by_role("button", name="Put in force").click()
    expect(page.get_by_role("alert")).to_have_text("a premium price is 1 to 50 UAH per message, VAT included")


def test_a_business_sees_its_numbers_statement_and_campaign_money(page: Page, site: Site, shop: str) -> None:
    [tariff] = site.api("/api/tariffs", shop)
    starts = datetime.fromisoformat(tariff["valid_from"])
    time.sleep(max(0.0, (starts - datetime.now(timezone.utc)).total_seconds()) + 0.2)      # it takes 10 s
    for n, sender in enumerate(("+380671234567", "+380671234568", "0501234567")):
        assert sms(site.engine, sender, "4747", "1", f"shop-{n}")[0] == 200
    sign_in(page, site, shop)
    menu(page, "Numbers")
    row = page.locator("tbody tr", has_text="4747")
    expect(row).to_contain_text("1500.00 UAH a month")
    expect(row.get_by_label("Campaign (4747)")).to_have_value("shop-vote")

    menu(page, "Money")
    expect(page.get_by_role("heading", name=re.compile(r"^Statement \d{4}-\d{2}$"))).to_be_visible()
    expect(page.locator("[data-total=revenue_with_vat]")).to_have_text("36.00 UAH")
    expect(page.locator("[data-total=share_without_vat]")).to_have_text("13.00 UAH")     # 2 × 4.50 + 4.00
    kyivstar = page.locator("tbody tr", has_text="kyivstar")
    expect(kyivstar).to_contain_text("Premium SMS")
    expect(kyivstar).to_contain_text("2 SMS")
    expect(kyivstar).to_contain_text("24.00 UAH")
    page.get_by_role("link", name="Shop vote").first.click()
    expect(page.get_by_role("heading", name="Money of Shop vote")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="charged events")).to_have_text(
        "3 charged events · revenue 36.00 UAH (with VAT) · your share 13.00 UAH · cost 0.00 UAH (without VAT)")
    expect(page.locator("tbody tr")).to_have_count(1)


def test_an_administrator_sees_every_tenants_month(page: Page, site: Site, shop: str) -> None:
    assert sms(site.engine, "+380671234569", "4747", "1", "shop-admin")[0] == 200      # shop has charges
    sign_in(page, site, site.keys["ops", "admin"])
    menu(page, "Money")
    expect(page.get_by_role("heading", name="Every tenant’s month")).to_be_visible()
    page.get_by_role("link", name="shop").click()
    expect(page.get_by_role("heading", name="Statement: shop")).to_be_visible()
