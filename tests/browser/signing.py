"""Signing in through the real log-in page, as every browser journey starts."""

from __future__ import annotations

import re

from playwright.sync_api import Page

PASSWORD = "correct horse battery staple"


def sign_in(page: Page, base: str, email: str, password: str = PASSWORD) -> None:
    """Fill allauth's log-in form and wait for the dashboard it lands on."""
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name=re.compile("Sign In", re.I)).click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
