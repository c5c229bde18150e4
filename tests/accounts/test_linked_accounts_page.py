"""The linked-accounts settings page: list, link, unlink (HTMX), reconnect."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import signals
from accounts.linked import linked_account_details
from accounts.models import CredentialStatus, ProviderCredential, User
from tests.accounts.conftest import link_devnet

pytestmark = pytest.mark.django_db


def test_the_page_lists_linked_accounts_and_a_link_button_per_provider(
    devnet_linked_alice: Client,
) -> None:
    html = devnet_linked_alice.get(reverse("linked_accounts")).content.decode()
    assert "@alice_dev" in html
    assert "Not synced yet" in html
    assert "Link Devnet (development)" in html
    assert "Link GitHub" in html


def test_the_page_shows_last_sync_time_that_another_app_reports(
    devnet_linked_alice: Client, alice: User
) -> None:
    import datetime

    from django.utils import timezone

    def details(**kwargs: object) -> dict[tuple[str, str], dict[str, object]]:
        moment = timezone.now() - datetime.timedelta(hours=2)
        return {("devnet", "alice_dev"): {"last_synced_at": moment}}

    linked_account_details.connect(details)
    try:
        html = devnet_linked_alice.get(reverse("linked_accounts")).content.decode()
    finally:
        linked_account_details.disconnect(details)
    assert "Last synced 2\xa0hours ago" in html


def test_a_link_that_needs_reconnecting_shows_a_reconnect_button(
    devnet_linked_alice: Client, alice: User
) -> None:
    ProviderCredential.objects.filter(user=alice).update(status=CredentialStatus.NEEDS_RECONNECT)
    html = devnet_linked_alice.get(reverse("linked_accounts")).content.decode()
    assert "Needs reconnecting" in html
    assert "Reconnect</button>" in html


def test_reconnecting_clears_needs_reconnect_and_signals(
    devnet_linked_alice: Client, alice: User
) -> None:
    ProviderCredential.objects.filter(user=alice).update(status=CredentialStatus.NEEDS_RECONNECT)
    heard: list[dict[str, object]] = []

    def listener(**kwargs: object) -> None:
        heard.append(kwargs)

    signals.credential_reconnected.connect(listener)
    try:
        link_devnet(devnet_linked_alice, "alice_dev")
    finally:
        signals.credential_reconnected.disconnect(listener)
    credential = ProviderCredential.objects.get(user=alice)
    assert credential.status == CredentialStatus.OK
    assert heard[0]["uid"] == "alice_dev"
    assert SocialAccount.objects.filter(user=alice).count() == 1


def test_unlinking_with_htmx_swaps_the_list_and_forgets_the_tokens(
    devnet_linked_alice: Client, alice: User
) -> None:
    account = SocialAccount.objects.get(user=alice)
    heard: list[dict[str, object]] = []

    def listener(**kwargs: object) -> None:
        heard.append(kwargs)

    signals.social_account_unlinked.connect(listener)
    try:
        response = devnet_linked_alice.post(
            reverse("unlink_account", args=[account.pk]), headers={"HX-Request": "true"}
        )
    finally:
        signals.social_account_unlinked.disconnect(listener)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="linked-list"')
    assert "No accounts linked yet" in html
    assert not SocialAccount.objects.filter(user=alice).exists()
    assert not ProviderCredential.objects.filter(user=alice).exists()
    assert heard[0]["provider"] == "devnet"


def test_unlinking_the_only_way_to_sign_in_is_refused(client: Client) -> None:
    # given someone who signed up with devnet alone (no password)
    link_devnet(client, "only_devnet", process="login")
    client.post(reverse("socialaccount_signup"), {"email": "only@example.com"})
    user = User.objects.get(email="only@example.com")
    assert not user.has_usable_password()
    client.force_login(user)
    account = SocialAccount.objects.get(user=user)
    # when they try to unlink it
    response = client.post(reverse("unlink_account", args=[account.pk]), follow=True)
    # then they are told why and keep it
    assert b"only way to sign in" in response.content
    assert SocialAccount.objects.filter(pk=account.pk).exists()


def test_charlie_cannot_unlink_alices_account(
    devnet_linked_alice: Client, alice: User, charlie_client: Client
) -> None:
    account = SocialAccount.objects.get(user=alice)
    response = charlie_client.post(reverse("unlink_account", args=[account.pk]))
    assert response.status_code == 404
    assert SocialAccount.objects.filter(pk=account.pk).exists()
    assert "alice_dev" not in charlie_client.get(reverse("linked_accounts")).content.decode()


def test_the_page_query_count_does_not_grow_with_links(alice_client: Client, alice: User) -> None:
    link_devnet(alice_client, "first_one")
    with CaptureQueriesContext(connection) as one:
        alice_client.get(reverse("linked_accounts"))
    for handle in ("second", "third", "fourth"):
        link_devnet(alice_client, handle)
    with CaptureQueriesContext(connection) as four:
        alice_client.get(reverse("linked_accounts"))
    assert len(four) == len(one)


def test_accounts_claimed_without_a_login_are_listed_once_and_only_to_their_owner(
    devnet_linked_alice: Client, alice: User, charlie_client: Client
) -> None:
    from tests.factories.networks import NetworkAccountFactory

    # given alice owns an imported Stack Exchange account besides her devnet link
    NetworkAccountFactory.create(network="stackexchange", handle="qubit_alice", user=alice)
    # when she opens the page
    html = devnet_linked_alice.get(reverse("linked_accounts")).content.decode()
    # then the claimed account is listed under "Also yours", and her devnet link is not repeated
    also_yours = html.split("Also yours", 1)[1]
    assert "@qubit_alice" in also_yours
    assert "@alice_dev" not in also_yours
    # and charlie never sees it
    assert "qubit_alice" not in charlie_client.get(reverse("linked_accounts")).content.decode()
