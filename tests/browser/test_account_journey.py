"""A newcomer's whole journey in a real browser: sign up, confirm, link, export, delete."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
EMAIL = "journey@example.com"
PASSWORD = "a-long-and-unusual-passphrase-42"


def test_sign_up_confirm_link_export_and_delete_in_a_browser(
    page: Page, live_server: Any, mailoutbox: list[Any], screenshot_dir: Path
) -> None:
    base = live_server.url

    # sign up with e-mail
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.screenshot(path=screenshot_dir / "01-sign-up.png", full_page=True)
    page.get_by_role("button", name=re.compile("Sign Up", re.I)).click()
    expect(page.get_by_text(re.compile("verify your email", re.I)).first).to_be_visible()

    # open the confirmation link from the e-mail
    match = re.search(r"https?://[^/\s]+(/\S+)", str(mailoutbox[-1].body))
    assert match, mailoutbox[-1].body
    page.goto(base + match.group(1))
    page.screenshot(path=screenshot_dir / "02-confirm.png", full_page=True)
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    page.wait_for_load_state()

    # link a devnet account through the provider flow
    page.goto(f"{base}/settings/accounts/")
    page.get_by_role("button", name="Link Devnet (development)").click()
    page.fill("input[name=handle]", "journey_dev")
    page.screenshot(path=screenshot_dir / "03-devnet-consent.png", full_page=True)
    page.get_by_role("button", name="Authorize Klout").click()
    expect(page.locator("#linked-list")).to_contain_text("@journey_dev")
    page.screenshot(path=screenshot_dir / "04-linked.png", full_page=True)

    # export the data and wait for the download link
    page.goto(f"{base}/settings/privacy/")
    page.get_by_role("button", name="Export my data").click()
    download_link = page.locator("#export-download")
    expect(download_link).to_be_visible(timeout=30_000)
    page.screenshot(path=screenshot_dir / "05-export-ready.png", full_page=True)
    with page.expect_download() as download_info:
        download_link.click()
    assert download_info.value.suggested_filename.endswith(".zip")

    # delete the account
    page.goto(f"{base}/settings/privacy/delete/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.screenshot(path=screenshot_dir / "06-delete.png", full_page=True)
    page.get_by_role("button", name="Delete everything").click()
    expect(page.get_by_text("has been deleted")).to_be_visible()
    page.screenshot(path=screenshot_dir / "07-deleted.png", full_page=True)
    assert not User.objects.filter(email=EMAIL).exists()
