"""A person who only links an account gets topics: the sync stores their own posts with tags and
links the reactions to them, and the scoring run infers topics from those posts (issue 14)."""

from __future__ import annotations

import pytest
import responses

from accounts.crypto import encrypt_token
from accounts.models import ProviderCredential
from networks.models import Network
from networks.services import sync_account
from scoring import services
from scoring.ontology import import_ontology
from scoring.topics import TopicScore
from tests.factories.networks import NetworkAccountFactory
from tests.factories.scoring import DAY
from tests.factories.topics import SMALL_EDGES, SMALL_TOPICS, write_ontology

pytestmark = pytest.mark.django_db

MASTO = "https://social.example"
ALICE = f"{MASTO}/users/alice"
FANS = ["bob", "carol", "dave"]


@pytest.fixture
def ontology(tmp_path):
    import_ontology(path=write_ontology(tmp_path / "o", SMALL_TOPICS, SMALL_EDGES))


def status(status_id: str, tags: list[str]) -> dict[str, object]:
    """A public status of GET /api/v1/accounts/:id/statuses, posted the day before DAY."""
    return {
        "id": status_id,
        "uri": f"{ALICE}/statuses/{status_id}",
        "created_at": "2026-10-31T10:00:00.000Z",
        "visibility": "public",
        "in_reply_to_id": None,
        "reblog": None,
        "content": "<p>" + " ".join(f"#{t}" for t in tags) + "</p>",
        "account": {"id": "109", "acct": "alice"},
        "tags": [{"name": t, "url": f"{MASTO}/tags/{t}"} for t in tags],
    }


def favourite(n: int, fan: str, status_id: str) -> dict[str, object]:
    return {
        "id": str(500 + n),
        "type": "favourite",
        "created_at": "2026-11-01T09:00:00.000Z",
        "account": {"id": str(n), "acct": f"{fan}@other.example", "display_name": fan.title()},
        "status": {"id": status_id, "uri": f"{ALICE}/statuses/{status_id}"},
    }


@responses.activate
def test_a_person_who_only_linked_mastodon_gets_topics_from_their_synced_posts(ontology, alice):
    # given: Alice linked her Mastodon account; nothing about her was imported
    me = NetworkAccountFactory.create(
        network=Network.MASTODON, external_id=ALICE, login_uid="109@social.example", user=alice
    )
    ProviderCredential.objects.create(
        user=alice,
        provider="mastodon",
        uid="109@social.example",
        access_token_enc=encrypt_token("t0ken"),
    )
    responses.get(
        f"{MASTO}/api/v1/accounts/109/statuses",
        json=[status("12", ["python"]), status("11", ["python", "programming"])],
    )
    responses.get(
        f"{MASTO}/api/v1/notifications",
        json=[favourite(n, fan, "12" if n % 2 else "11") for n, fan in enumerate(FANS)],
    )

    # when: her account syncs and the day's scoring run computes topics
    sync_account(account_id=me.pk)
    run = services.compute_day(day=DAY)

    # then: her Python topic stands on those posts and the reactions to them
    hers = {r.topic.slug: r for r in TopicScore.objects.filter(run=run, user=alice)}
    assert "python" in hers
    python = hers["python"]
    assert (python.posts, python.reactions, python.reactors) == (2, 3, 3)
    assert python.rank == 1
    assert hers["software-development"].inherited
    assert "quantum-computing" not in hers
    assert run.stats["topics"]["tagged_posts"] == 2
