"""Signing in with an API key: a wrong key is refused in plain words, the right one opens the menu of its
role, signing out forgets the key, and a key revoked while signed in sends the person back to sign in."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from ..integration.api.conftest import make_key
from ..integration.conftest import ROOT
from .conftest import Site, sign_in

pytestmark = pytest.mark.integration


def test_a_wrong_key_then_the_right_one_then_sign_out(page: Page, site: Site) -> None:
    page.goto(site.url + "#/campaigns")
    expect(page).to_have_url(re.compile(r"#/signin$"))                 # not signed in: the sign-in page
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    page.get_by_label("API key").fill("ivr_0123456789ab_not-a-real-secret")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(re.compile("That key was not accepted"))
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()

    page.get_by_label("API key").fill(site.keys["demo", "business"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"#/campaigns$"))               # where the person wanted to go
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    expect(page.locator("#who")).to_contain_text("demo · business")
    menu = page.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link")).to_have_text(["Campaigns", "Upload a campaign", "Code pools", "Outbound", "Voice packs",
                                                   "Call log", "Numbers", "Tariffs", "Money"])
    expect(page.get_by_role("link", name="Talent show vote", exact=True)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto(site.url + "#/campaigns")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()  # the key is forgotten


def test_each_role_gets_its_own_menu(page: Page, site: Site) -> None:
    sign_in(page, site, site.keys["demo", "operator"])
    menu = page.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link")).to_have_text(["Campaigns", "Call log", "Calls now", "This node"])
    page.goto(site.url + "#/upload")
    expect(page.get_by_role("alert")).to_have_text("This page is not available with your key (role: operator).")
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, site, site.keys["ops", "admin"])
    expect(menu.get_by_role("link")).to_have_text(["Campaigns", "Upload a campaign", "Code pools", "Outbound", "Voice packs",
                                                   "Call log", "Calls now", "This node", "Tenants and keys",
                                                   "Numbers", "Tariffs", "Money"])


def test_a_key_revoked_while_signed_in_signs_the_person_out(page: Page, site: Site) -> None:
    key = make_key(site.engine, "demo", "operator")
    sign_in(page, site, key)
    expect(page.get_by_role("link", name="Talent show vote", exact=True)).to_be_visible()
    subprocess.run([sys.executable, "-m", "ivr.cli", "keys", "revoke", key.split("_")[1], "--db", site.engine.db_url],
                   cwd=ROOT, capture_output=True, check=True, timeout=60)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Call log").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Your key is no longer accepted")).to_be_visible()
