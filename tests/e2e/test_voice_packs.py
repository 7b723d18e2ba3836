"""Voice packs in the browser: a business uploads an archive of its recorded words, is shown which files
cannot be words (and nothing is kept), then uploads good ones, sees the pack with its words and the words it
still lacks to say every value in Ukrainian, and deletes it. Works on its own tenant "voicer"."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from ..integration.api.conftest import make_key
from .conftest import Site, screenshot, sign_in

pytestmark = pytest.mark.integration


def archive(path: Path, files: dict[str, bytes]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as made:
        for name, data in files.items():
            made.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


def test_a_pack_is_uploaded_checked_and_deleted(page: Page, site: Site, tmp_path: Path) -> None:
    key = make_key(site.engine, "voicer", "business")
    words = {}
    for word in ("ваш", "баланс", "одна"):
        subprocess.run(["espeak-ng", "-v", "uk", "-w", str(tmp_path / f"{word}.wav"), word], check=True)
        words[f"{word}.wav"] = (tmp_path / f"{word}.wav").read_bytes()
    sign_in(page, site, key)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Voice packs").click()
    expect(page.get_by_text("No voice packs yet.")).to_be_visible()
    page.get_by_label("Pack name").fill("brand")
    page.get_by_label("Archive or recording").set_input_files(
        archive(tmp_path / "bad.zip", {**words, "../гривня.wav": words["ваш.wav"], "notes.txt": b"hi"}))
    page.get_by_role("button", name="Upload").click()
    problems = page.get_by_role("table", name="Files that cannot be words of the pack")
    expect(problems).to_be_visible()
    expect(problems.get_by_role("row")).to_have_count(3)                # a header and the two bad files
    expect(problems).to_contain_text("a path outside the pack")
    expect(page.get_by_text("No voice packs yet.")).to_be_visible()     # nothing of it was kept

    page.get_by_label("Archive or recording").set_input_files(archive(tmp_path / "good.zip", words))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("main .notice").first).to_have_text("Pack brand: 3 words recorded; 0 words replaced.")
    pack = page.get_by_role("region", name="brand")
    expect(pack).to_contain_text("баланс, ваш, одна")
    expect(pack.locator(".missing")).to_contain_text("words missing: ")
    expect(pack.locator(".missing")).to_contain_text("гривня")
    expect(pack.locator(".missing")).not_to_contain_text("одна,")
    screenshot(page, tmp_path, "voice-pack")

    page.once("dialog", lambda dialog: dialog.accept())
    pack.get_by_role("button", name="Delete this pack").click()
    expect(page.get_by_text("No voice packs yet.")).to_be_visible()
