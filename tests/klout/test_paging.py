"""The one page-number pattern: what `?page=` reads as, and links that keep other parameters."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from accounts.models import User
from klout.paging import page_number, page_of


@pytest.mark.parametrize(
    ("raw", "number"),
    [(None, 1), ("", 1), ("3", 3), ("0", 1), ("-2", 1), ("2.5", 1), ("x", 1), ("9" * 9, 1)],
)
def test_a_page_number_is_a_positive_whole_number_or_the_first_page(raw, number) -> None:
    assert page_number(raw) == number


@pytest.mark.django_db
def test_a_pages_links_change_only_its_own_parameter(alice: User, bob: User) -> None:
    request = RequestFactory().get("/", {"other": "4", "mine": "2"})

    page = page_of(request, User.objects.order_by("pk"), 1, param="mine")

    assert page.rows == [bob]
    assert page.newer_href == "?other=4&mine=1"
    assert page.newest_href == "?other=4&mine=1"
    assert page.older is None
    assert page.older_href == ""
