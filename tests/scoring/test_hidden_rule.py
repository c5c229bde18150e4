"""One "hidden" rule (protected, opted out, or owned by an opted-out person), used everywhere; an
account that becomes hidden by any path loses its scores and read-model rows as on opt-out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from networks.models import Network, NetworkAccount
from networks.records import AccountRecord
from networks.services import claim_account, ingest_batch, set_account_protected
from networks.staging import hidden_account_ids
from scoring import collect
from scoring.models import DailyScore, LatestScore
from scoring.queries import privacy_epoch, visible_accounts_scores
from scoring.services import compute_day
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored_star() -> NetworkAccount:
    """A public account with a published score and a read-model row."""
    star = accounts("star", 1)[0]
    fans = accounts("fan", 6)
    for back in range(0, 4):
        react([(f, star) for f in fans], at=noon(DAY - dt.timedelta(days=back * 2)))
    compute_day(day=DAY)
    assert LatestScore.objects.filter(account=star).exists()
    return star


def _assert_gone_as_on_opt_out(account: NetworkAccount, epoch_before: int) -> None:
    assert not DailyScore.objects.filter(account=account).exists()
    assert not LatestScore.objects.filter(account=account).exists()
    assert privacy_epoch() > epoch_before


def test_an_account_a_sync_reports_protected_loses_its_scores_and_moves_the_epoch(
    scored_star, django_capture_on_commit_callbacks
):
    before = privacy_epoch()

    with django_capture_on_commit_callbacks(execute=True):
        ingest_batch(
            network=Network.DEV,
            accounts=[AccountRecord(external_id=scored_star.external_id, protected=True)],
        )

    _assert_gone_as_on_opt_out(scored_star, before)


def test_staff_protecting_an_account_removes_its_scores_and_moves_the_epoch(
    scored_star, django_capture_on_commit_callbacks
):
    before = privacy_epoch()

    with django_capture_on_commit_callbacks(execute=True):
        set_account_protected(account_id=scored_star.pk)

    _assert_gone_as_on_opt_out(scored_star, before)


def test_an_opted_out_person_claiming_a_scored_account_hides_it(
    scored_star, alice, django_capture_on_commit_callbacks
):
    alice.opted_out = True
    alice.save(update_fields=["opted_out"])
    before = privacy_epoch()

    with django_capture_on_commit_callbacks(execute=True):
        claim_account(user_id=alice.pk, provider=Network.DEV, uid=scored_star.external_id)

    _assert_gone_as_on_opt_out(scored_star, before)
    assert not visible_accounts_scores().filter(account=scored_star).exists()


FLAGS = st.lists(
    st.tuples(st.booleans(), st.booleans(), st.sampled_from([None, False, True])),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(flags=FLAGS)
def test_staging_collect_and_querysets_agree_on_who_is_hidden(flags):
    NetworkAccount.objects.all().delete()
    User.objects.filter(email__endswith="@hidden.example").delete()
    made = []
    for i, (protected, opted_out, owner) in enumerate(flags):
        user = (
            None
            if owner is None
            else User.objects.create_user(email=f"h{i}@hidden.example", opted_out=owner)
        )
        made.append(
            NetworkAccount.objects.create(
                network=Network.DEV,
                external_id=f"h{i}",
                protected=protected,
                opted_out=opted_out,
                user=user,
            )
        )
    expected = {
        a.pk
        for a, (protected, opted_out, owner) in zip(made, flags, strict=True)
        if protected or opted_out or owner
    }

    with connection.cursor() as cursor:
        staged = hidden_account_ids(cursor, Network.DEV)
    collected = set(collect._hidden_account_ids().tolist())
    hidden = set(NetworkAccount.objects.hidden().values_list("pk", flat=True))
    visible = set(NetworkAccount.objects.visible().values_list("pk", flat=True))

    assert staged == collected == hidden == expected
    assert visible == {a.pk for a in made} - expected
