"""accounts' signals reach the network store."""

from __future__ import annotations

import pytest

from accounts import signals
from networks.models import Interaction, NetworkAccount
from tests.factories.networks import InteractionFactory, NetworkAccountFactory

pytestmark = pytest.mark.django_db


def test_person_opted_out_signal_purges_their_accounts(alice):
    mine = NetworkAccountFactory.create(user=alice)
    InteractionFactory.create(actor=mine)

    signals.person_opted_out.send(sender=None, user_id=alice.pk)

    assert NetworkAccount.objects.get(pk=mine.pk).opted_out
    assert not Interaction.objects.exists()


def test_network_account_opted_out_signal_hides_an_unclaimed_account():
    account = NetworkAccountFactory.create(network="github", external_id="7")
    InteractionFactory.create(receiver=account)

    signals.network_account_opted_out.send(sender=None, provider="github", uid="7", handle="")

    assert NetworkAccount.objects.get(pk=account.pk).opted_out
    assert not Interaction.objects.exists()


def test_linking_then_unlinking_claims_and_releases_the_account(alice):
    signals.social_account_linked.send(
        sender=None, user_id=alice.pk, provider="github", uid="9", handle="al", extra={}
    )
    assert NetworkAccount.objects.get(network="github", external_id="9").user_id == alice.pk

    signals.social_account_unlinked.send(sender=None, user_id=alice.pk, provider="github", uid="9")

    assert NetworkAccount.objects.get(network="github", external_id="9").user_id is None


def test_credential_signals_toggle_needs_reconnect(alice):
    NetworkAccountFactory.create(network="github", external_id="9", user=alice)

    signals.credential_needs_reconnect.send(
        sender=None, user_id=alice.pk, provider="github", uid="9"
    )
    assert NetworkAccount.objects.get(external_id="9").needs_reconnect

    signals.credential_reconnected.send(sender=None, user_id=alice.pk, provider="github", uid="9")
    assert not NetworkAccount.objects.get(external_id="9").needs_reconnect
