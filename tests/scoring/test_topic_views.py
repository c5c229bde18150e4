"""Public person profiles, topic pages, the +K button and topic choices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from networks.models import NetworkAccount
from scoring.kloutids import ProfileSlug, klout_id_of, set_profile_slug
from scoring.plusk import PlusK
from scoring.topics import ChoiceState, TopicChoice
from tests.factories.accounts import UserFactory
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import ScoringRunFactory, score_history
from tests.factories.topics import TopicEdgeFactory, TopicFactory, TopicScoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def quantum():
    return TopicFactory.create(slug="quantum-computing", display_name="Quantum Computing")


@pytest.fixture
def run():
    """The latest published run (after any score_history)."""
    return ScoringRunFactory.create(day=dt.date.today())


def _eligible(user: User) -> User:
    User.objects.filter(pk=user.pk).update(date_joined=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    NetworkAccountFactory.create(user=user)
    return user


def _bob_gives_alice_plus_k(
    alice: User, bob: User, topic: Any, run: Any
) -> tuple[Client, str, PlusK]:
    """Bob, able to give, gives Alice +K on `topic` (scored for her in `run`) through the page."""
    _eligible(bob)
    TopicScoreFactory.create(run=run, user=alice, topic=topic)
    client = Client()
    client.force_login(bob)
    kid = klout_id_of(user_id=alice.pk)
    client.post("/plusk/give/", {"klout_id": kid, "topic_id": topic.pk})
    return client, kid, PlusK.objects.get()


def test_a_persons_public_profile_shows_topics_with_evidence(client, alice, quantum, run):
    score_history(user=alice, days=3)
    TopicScoreFactory.create(run=run, user=alice, topic=quantum, reactors=17, posts=6)

    page = client.get(f"/p/{klout_id_of(user_id=alice.pk)}/")

    body = page.content.decode()
    assert page.status_code == 200
    assert "Alice" in body
    assert "17 people reacted to 6 of their posts about Quantum Computing" in body
    assert "Sign in to give +K" in body


def test_hidden_and_unknown_people_are_404(client, alice):
    kid = klout_id_of(user_id=alice.pk)
    User.objects.filter(pk=alice.pk).update(opted_out=True)

    assert client.get(f"/p/{kid}/").status_code == 404
    assert client.get("/p/987654321/").status_code == 404
    assert client.get("/p/no-such-slug/").status_code == 404


def test_a_claimed_accounts_ids_and_pages_lead_to_its_person(client, alice):
    account = NetworkAccountFactory.create(handle="alice_dev")
    account_kid = klout_id_of(account_id=account.pk)
    NetworkAccount.objects.filter(pk=account.pk).update(user=alice)
    person_kid = klout_id_of(user_id=alice.pk)

    assert client.get(f"/p/{account_kid}/").url == f"/p/{person_kid}/"
    assert client.get(f"/u/dev/{account.handle}").url == f"/p/{person_kid}/"


def test_an_unclaimed_accounts_klout_id_leads_to_its_account_page(client):
    account = NetworkAccountFactory.create(handle="someone")
    page = client.get(f"/p/{klout_id_of(account_id=account.pk)}/")
    assert page.url == "/u/dev/someone"


def test_a_chosen_slug_is_the_profile_address_and_the_id_redirects(client, alice):
    set_profile_slug(user_id=alice.pk, slug="Alice-Q")

    assert client.get(f"/p/{klout_id_of(user_id=alice.pk)}/").url == "/p/alice-q/"
    assert client.get("/p/alice-q/").status_code == 200


@pytest.mark.parametrize("slug", ["12345", "a", "-abc", "has space", "x" * 41])
def test_a_slug_is_never_all_digits_nor_malformed(alice, slug):
    with pytest.raises(ValueError, match="profile address"):
        set_profile_slug(user_id=alice.pk, slug=slug)


def test_a_taken_slug_is_refused(alice, bob):
    set_profile_slug(user_id=alice.pk, slug="quantum")
    with pytest.raises(ValueError, match="taken"):
        set_profile_slug(user_id=bob.pk, slug="quantum")


def test_giving_plus_k_with_htmx_swaps_the_button_and_the_allowance(alice, bob, quantum, run):
    _eligible(bob)
    TopicScoreFactory.create(run=run, user=alice, topic=quantum)
    client = Client()
    client.force_login(bob)
    kid = klout_id_of(user_id=alice.pk)
    page = client.get(f"/p/{kid}/").content.decode()
    assert "You can give 5 more +K today." in page
    assert 'hx-post="/plusk/give/"' in page

    fragment = client.post(
        "/plusk/give/", {"klout_id": kid, "topic_id": quantum.pk}, headers={"HX-Request": "true"}
    ).content.decode()

    assert "You gave +K" in fragment
    assert "1 +K" in fragment
    assert 'id="plusk-allowance" class="muted" hx-swap-oob="true"' in fragment
    assert "You can give 4 more +K today." in fragment
    assert PlusK.objects.get().giver_id == bob.pk


def test_the_plain_form_gives_plus_k_and_comes_back(alice, bob, quantum, run):
    _eligible(bob)
    TopicScoreFactory.create(run=run, user=alice, topic=quantum)
    client = Client()
    client.force_login(bob)
    kid = klout_id_of(user_id=alice.pk)

    response = client.post(
        "/plusk/give/", {"klout_id": kid, "topic_id": quantum.pk, "next": f"/p/{kid}/"}
    )
    again = client.post(
        "/plusk/give/", {"klout_id": kid, "topic_id": quantum.pk, "next": "https://evil.example/"}
    )

    assert response["Location"] == f"/p/{kid}/"
    assert again["Location"] == "/topics/"  # a foreign next is ignored
    assert PlusK.objects.count() == 1


def test_signed_out_people_cannot_give(client, alice, quantum, run):
    TopicScoreFactory.create(run=run, user=alice, topic=quantum)
    response = client.post("/plusk/give/", {"klout_id": klout_id_of(user_id=alice.pk)})
    assert response.status_code == 302
    assert "/accounts/login/" in response.url
    assert not PlusK.objects.exists()


def test_only_the_giver_takes_back_and_both_sides_see_history(alice, bob, charlie, quantum, run):
    _eligible(bob)
    TopicScoreFactory.create(run=run, user=alice, topic=quantum)
    giver = Client()
    giver.force_login(bob)
    giver.post("/plusk/give/", {"klout_id": klout_id_of(user_id=alice.pk), "topic_id": quantum.pk})
    plus_k = PlusK.objects.get()
    stranger = Client()
    stranger.force_login(charlie)
    receiver = Client()
    receiver.force_login(alice)

    stranger.post(f"/plusk/{plus_k.pk}/take-back/")
    assert PlusK.objects.live().count() == 1
    assert "Quantum Computing" not in stranger.get("/plusk/").content.decode()
    assert "Bob on" in receiver.get("/plusk/").content.decode()
    assert "Take back" in giver.get("/plusk/").content.decode()

    giver.post(f"/plusk/{plus_k.pk}/take-back/")
    assert PlusK.objects.live().count() == 0


def test_hiding_a_topic_removes_it_from_the_dashboard_and_profile_at_once(
    alice, alice_client, quantum, run
):
    score_history(user=alice, days=2)
    klout_id_of(user_id=alice.pk)
    TopicScoreFactory.create(run=run, user=alice, topic=quantum)
    assert "Quantum Computing" in alice_client.get("/dashboard/").content.decode()

    alice_client.post("/me/topics/", {"action": "hide", "topic": quantum.pk})

    assert TopicChoice.objects.get(user=alice).state == ChoiceState.HIDDEN
    dashboard = alice_client.get("/dashboard/").content.decode()
    assert "Hidden:" in dashboard
    profile = Client().get(f"/p/{klout_id_of(user_id=alice.pk)}/").content.decode()
    assert "Quantum Computing" not in profile

    alice_client.post("/me/topics/", {"action": "unhide", "topic": quantum.pk})
    assert not TopicChoice.objects.exists()


def test_adding_a_topic_by_name(alice, alice_client, quantum):
    response = alice_client.post("/me/topics/", {"action": "add", "topic": "quantum computing"})
    assert response.url == "/dashboard/"
    assert TopicChoice.objects.get(user=alice).state == ChoiceState.ADDED
    alice_client.post("/me/topics/", {"action": "add", "topic": "no such topic"})
    assert TopicChoice.objects.count() == 1


def test_topic_page_lists_top_people_without_hidden_ones(client, alice, bob, quantum, run):
    physics = TopicFactory.create(slug="physics", display_name="Physics", depth=2)
    TopicEdgeFactory.create(parent=physics, child=quantum)
    TopicScoreFactory.create(run=run, user=alice, topic=quantum, score=90)
    TopicScoreFactory.create(run=run, user=bob, topic=quantum, score=40)
    TopicChoice.objects.create(user=bob, topic=quantum, state=ChoiceState.HIDDEN)

    body = client.get("/topics/quantum-computing/").content.decode()

    assert "Alice" in body
    assert "Bob" not in body
    assert 'href="/topics/physics/"' in body


def _board_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/topics/quantum-computing/").status_code == 200
    return len(queries.captured_queries)


def test_topic_page_query_count_does_not_grow_with_people(client, quantum, run):
    for _ in range(2):
        TopicScoreFactory.create(run=run, user=UserFactory.create(), topic=quantum)
    TopicScoreFactory.create(run=run, account=NetworkAccountFactory.create(), topic=quantum)
    _board_queries(client)  # the people get their kloutIds once
    few = _board_queries(client)
    for _ in range(15):
        TopicScoreFactory.create(run=run, user=UserFactory.create(), topic=quantum)
    for _ in range(5):
        TopicScoreFactory.create(run=run, account=NetworkAccountFactory.create(), topic=quantum)
    _board_queries(client)  # newcomers get their kloutIds once

    assert _board_queries(client) == few


def test_topics_page_query_count_does_not_grow_with_categories(client):
    def category(i: int) -> None:
        c = TopicFactory.create(depth=1, topic_type="sub", display_name=f"Category {i}")
        TopicEdgeFactory.create(parent=c, child=TopicFactory.create(depth=2))

    category(0)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/topics/").status_code == 200
    for i in range(1, 10):
        category(i)
    with CaptureQueriesContext(connection) as many:
        body = client.get("/topics/?q=Category").content.decode()

    assert "Category 9" in body
    assert len(many.captured_queries) <= len(few.captured_queries) + 1  # the search


def test_search_finds_topics_as_well_as_people(client, quantum):
    from scoring.topics import TopicAlias

    TopicAlias.objects.create(topic=quantum, alias="quantum computing", source="name")

    body = client.get("/search/", {"q": "Quantum"}).content.decode()

    assert 'href="/topics/quantum-computing/"' in body


def test_choosing_a_profile_address_from_the_dashboard(alice, alice_client, bob):
    set_profile_slug(user_id=bob.pk, slug="taken")

    alice_client.post("/me/profile-address/", {"slug": "taken"})
    alice_client.post("/me/profile-address/", {"slug": "2024"})
    assert not ProfileSlug.objects.filter(user=alice).exists()  # both refused
    response = alice_client.post("/me/profile-address/", {"slug": "alice-q"})

    assert response["Location"] == "/dashboard/"
    assert Client().get("/p/alice-q/").status_code == 200


def test_the_topic_page_shows_the_allowance_and_a_plus_k_button_per_person(
    alice, bob, charlie, quantum, run
):
    _eligible(bob)
    TopicScoreFactory.create(run=run, user=alice, topic=quantum, score=90)
    TopicScoreFactory.create(run=run, user=charlie, topic=quantum, score=60)
    TopicScoreFactory.create(run=run, user=bob, topic=quantum, score=30)
    client = Client()
    client.force_login(bob)

    body = client.get("/topics/quantum-computing/").content.decode()

    assert "You can give 5 more +K today." in body
    assert 'aria-label="Give Alice +K in Quantum Computing"' in body
    assert 'aria-label="Give Charlie +K in Quantum Computing"' in body
    assert "Give Bob +K" not in body  # never to oneself
    assert f'id="plusk-{klout_id_of(user_id=alice.pk)}-{quantum.pk}"' in body
    assert "Sign in to give +K." in Client().get("/topics/quantum-computing/").content.decode()


def test_giving_from_the_topic_page_swaps_only_that_persons_button(
    alice, bob, charlie, quantum, run
):
    _eligible(bob)
    TopicScoreFactory.create(run=run, user=alice, topic=quantum, score=90)
    TopicScoreFactory.create(run=run, user=charlie, topic=quantum, score=60)
    client = Client()
    client.force_login(bob)
    alice_id = klout_id_of(user_id=alice.pk)

    fragment = client.post(
        "/plusk/give/",
        {"klout_id": alice_id, "topic_id": quantum.pk},
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://testserver/topics/quantum-computing/",
        },
    ).content.decode()

    assert f'id="plusk-{alice_id}-{quantum.pk}"' in fragment
    assert "You gave +K" in fragment
    assert (
        'name="next" value="/topics/quantum-computing/"' in fragment
    )  # the page, not /plusk/give/
    assert "You can give 4 more +K today." in fragment
    body = client.get("/topics/quantum-computing/").content.decode()
    assert body.count("You gave +K") == 1
    assert 'aria-label="Give Charlie +K in Quantum Computing"' in body


def test_a_topic_beyond_the_profiles_first_ten_still_gets_its_button_back(alice, bob, run):
    _eligible(bob)
    topics = TopicFactory.create_batch(12)
    for rank, topic in enumerate(topics, start=1):
        TopicScoreFactory.create(run=run, user=alice, topic=topic, rank=rank)
    client = Client()
    client.force_login(bob)

    fragment = client.post(
        "/plusk/give/",
        {"klout_id": klout_id_of(user_id=alice.pk), "topic_id": topics[-1].pk},
        headers={"HX-Request": "true"},
    ).content.decode()

    assert "You gave +K" in fragment


def test_taking_back_inline_brings_the_button_and_the_allowance_back(alice, bob, quantum, run):
    client, kid, plus_k = _bob_gives_alice_plus_k(alice, bob, quantum, run)
    page = client.get(f"/p/{kid}/").content.decode()
    assert f'hx-post="/plusk/{plus_k.pk}/take-back/"' in page
    assert 'aria-label="Take back your +K in Quantum Computing"' in page

    fragment = client.post(
        f"/plusk/{plus_k.pk}/take-back/", headers={"HX-Request": "true"}
    ).content.decode()

    assert PlusK.objects.live().count() == 0
    assert "You gave +K" not in fragment
    assert 'aria-label="Give Alice +K in Quantum Computing"' in fragment
    assert "You can give 5 more +K today." in fragment


def test_a_plus_k_older_than_an_hour_shows_no_take_back(alice, bob, quantum, run):
    client, kid, plus_k = _bob_gives_alice_plus_k(alice, bob, quantum, run)
    PlusK.objects.filter(pk=plus_k.pk).update(
        created_at=plus_k.created_at - dt.timedelta(minutes=61)
    )

    page = client.get(f"/p/{kid}/").content.decode()
    refused = client.post(f"/plusk/{plus_k.pk}/take-back/", headers={"HX-Request": "true"})

    assert "You gave +K" in page
    assert "take-back" not in page
    assert "within the hour" in refused.content.decode()
    assert PlusK.objects.live().count() == 1


def test_topic_page_query_count_does_not_grow_with_people_for_a_signed_in_giver(bob, quantum, run):
    _eligible(bob)
    client = Client()
    client.force_login(bob)
    for _ in range(2):
        TopicScoreFactory.create(run=run, user=UserFactory.create(), topic=quantum)
    _board_queries(client)
    few = _board_queries(client)
    for _ in range(15):
        TopicScoreFactory.create(run=run, user=UserFactory.create(), topic=quantum)
    _board_queries(client)

    assert _board_queries(client) == few


def test_most_plus_kd_names_people_and_never_lists_hidden_ones(alice, bob, charlie, quantum, run):
    from scoring.plusk import give_plus_k

    _eligible(bob)
    for receiver in (alice, charlie):
        TopicScoreFactory.create(run=run, user=receiver, topic=quantum)
        give_plus_k(
            giver_id=bob.pk, klout_id=klout_id_of(user_id=receiver.pk), topic_id=str(quantum.pk)
        )
    User.objects.filter(pk=charlie.pk).update(opted_out=True)

    body = Client().get("/topics/quantum-computing/").content.decode()
    most = body[body.index("Most +K") :]

    assert f'href="/p/{klout_id_of(user_id=alice.pk)}/">Alice</a>' in most
    assert "Klout id" not in most
    assert klout_id_of(user_id=charlie.pk) not in most


def test_a_claimed_accounts_topic_row_does_not_list_its_person_twice(client, alice, quantum, run):
    """Scored on its own before it was claimed, the account's row and its person's row are one
    person on the board: one row, under the person's name."""
    account = NetworkAccountFactory.create(handle="daft", display_name="DaftWullie", user=alice)
    TopicScoreFactory.create(run=run, account=account, topic=quantum, score=95)
    TopicScoreFactory.create(run=run, user=alice, topic=quantum, score=95)

    body = client.get("/topics/quantum-computing/").content.decode()

    assert body.count(f'href="/p/{klout_id_of(user_id=alice.pk)}/"') == 1
    assert "Alice" in body
    assert "DaftWullie" not in body


def test_topic_page_never_lists_an_account_of_a_person_who_opted_out(client, alice, quantum, run):
    account = NetworkAccountFactory.create(handle="daft", display_name="DaftWullie", user=alice)
    TopicScoreFactory.create(run=run, account=account, topic=quantum, score=95)
    User.objects.filter(pk=alice.pk).update(opted_out=True)

    body = client.get("/topics/quantum-computing/").content.decode()

    assert "DaftWullie" not in body
    assert "daft" not in body


def test_adding_an_empty_topic_name_asks_for_one(alice, alice_client, quantum):
    page = alice_client.post("/me/topics/", {"action": "add", "topic": "  "}, follow=True)

    body = page.content.decode()
    assert "Type the name of a topic to add" in body
    assert "No topic called" not in body
    assert not TopicChoice.objects.exists()


def _plus_k_between(giver: User, receiver: User, label: str, how_many: int) -> None:
    """`how_many` live +K, one a day going back, each on its own topic named `<label>-NN`."""
    now = dt.datetime.now(dt.UTC)
    kid = klout_id_of(user_id=receiver.pk)
    rows = []
    for n in range(how_many):
        topic = TopicFactory.create(slug=f"{label}-{n:02d}", display_name=f"{label}-{n:02d}")
        at = now - dt.timedelta(days=how_many - n)  # the highest n is the newest
        rows.append(
            PlusK(
                giver=giver,
                receiver_user=receiver,
                receiver_klout_id=kid,
                topic=topic,
                day=at.date(),
                slot=1,
                created_at=at,
                expires_at=at + dt.timedelta(days=7),
            )
        )
    PlusK.objects.bulk_create(rows)


def test_the_plus_k_page_pages_what_was_given_and_received_apart(alice, bob, alice_client):
    from scoring.topic_views import PLUS_K_PAGE_SIZE as SIZE

    _plus_k_between(alice, bob, "gave", SIZE + 5)
    _plus_k_between(bob, alice, "got", 2 * SIZE + 5)

    first = alice_client.get("/plusk/").content.decode()
    older_received = alice_client.get("/plusk/", {"received": 3}).content.decode()
    both_older = alice_client.get("/plusk/", {"given": 2, "received": 2}).content.decode()

    assert f"gave-{SIZE + 4:02d}" in first
    assert "gave-04" not in first  # the 21st newest given: on the next page of "given"
    assert f"got-{2 * SIZE + 4:02d}" in first
    assert "got-00" not in first
    assert 'href="?given=2"' in first
    assert 'href="?received=2"' in first
    # The oldest received is on its third page, and the given list stays on its first.
    assert "got-00" in older_received
    assert f"got-{SIZE + 4:02d}" not in older_received
    assert f"gave-{SIZE + 4:02d}" in older_received
    assert 'href="?received=2"' in older_received  # ← Newer, with nothing older after it
    # Each list's links keep where the other list is.
    assert "gave-00" in both_older
    assert f"gave-{SIZE + 4:02d}" not in both_older
    assert 'href="?given=1&amp;received=2"' in both_older
    assert 'href="?given=2&amp;received=3"' in both_older


def test_a_plus_k_page_past_the_end_leads_back_to_the_newest(alice, bob, alice_client):
    _plus_k_between(alice, bob, "gave", 3)

    page = alice_client.get("/plusk/", {"given": 7}).content.decode()

    assert "You gave fewer than that" in page
    assert 'href="?given=1"' in page


def test_no_page_of_the_plus_k_history_shows_other_peoples_plus_k(
    alice, bob, charlie, alice_client
):
    _plus_k_between(bob, charlie, "theirs", 3)
    _plus_k_between(alice, bob, "gave", 25)

    pages = [
        alice_client.get("/plusk/", {"given": n, "received": n}).content.decode() for n in (1, 2, 3)
    ]

    assert "gave-00" in "".join(pages)
    assert "theirs-" not in "".join(pages)
