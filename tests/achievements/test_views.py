"""Achievement pages and the how-to-improve card: content, authorization, query counts, art."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from achievements.models import Unlock
from achievements.rules import RULES
from networks.models import InteractionKind
from tests.factories.accounts import UserFactory
from tests.factories.scoring import accounts, react

pytestmark = pytest.mark.django_db


def test_the_art_is_an_svg_per_achievement_and_level(client) -> None:
    for rule in RULES:
        for level in range(4):
            response = client.get(f"/achievements/art/{rule.key}/{level}.svg")
            assert response.status_code == 200
            assert response["Content-Type"] == "image/svg+xml"
            assert response.content.startswith(b"<svg")
    gold = client.get("/achievements/art/mentioned/3.svg").content
    bronze = client.get("/achievements/art/mentioned/1.svg").content
    assert gold != bronze
    assert client.get("/achievements/art/nope/1.svg").status_code == 404
    assert client.get("/achievements/art/mentioned/4.svg").status_code == 404


def test_the_index_shows_the_share_of_people_holding_each_level(client, alice, bob) -> None:
    Unlock.objects.create(user=alice, achievement="mentioned", level=1, day=dt.date(2026, 11, 1))
    html = client.get("/achievements/").content.decode()
    assert "Talk of the town" in html
    assert "50.0%" in html  # one of two people holds bronze
    assert "1 person" in html


def test_the_index_takes_a_fixed_number_of_queries(client) -> None:
    people = UserFactory.create_batch(5)
    for person in people:
        Unlock.objects.create(user=person, achievement="score", level=1, day=dt.date(2026, 11, 1))
    with CaptureQueriesContext(connection) as few:
        client.get("/achievements/")
    more = UserFactory.create_batch(10)
    for person in more:
        Unlock.objects.create(user=person, achievement="moment", level=2, day=dt.date(2026, 11, 1))
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as many:
        client.get("/achievements/")
    assert len(many) == len(few)


def test_my_achievements_show_progress_and_need_a_login(client, alice, alice_client) -> None:
    main = accounts("alice", 1, user=alice)[0]
    Unlock.objects.create(user=alice, achievement="networks", level=1, day=dt.date(2026, 11, 1))
    assert client.get("/achievements/mine/").status_code == 302
    html = alice_client.get("/achievements/mine/", headers={"HX-Request": "true"}).content.decode()
    assert 'id="my-achievements"' in html
    assert "<html" not in html  # the fragment only
    assert "1/2 networks" in html  # bronze held (one network), silver at two
    assert main.handle not in html


def test_the_improve_card_uses_only_the_persons_own_data(alice, alice_client, charlie_client):
    main = accounts("alice", 1, user=alice)[0]
    fans = accounts("fanofalice", 3)
    at = timezone.now().replace(hour=18, minute=5) - dt.timedelta(days=2)
    react([(f, main) for f in fans], at=at, kind=InteractionKind.MENTION)
    react([(fans[0], main)], at=at)

    mine = alice_client.get("/dashboard/improve/").content.decode()
    assert "@fanofalice0: 2 reactions" in mine
    assert "18:00-19:00 UTC: 4 reactions" in mine
    assert "(100%)" in mine

    theirs = charlie_client.get("/dashboard/improve/").content.decode()
    assert "fanofalice" not in theirs
    assert "Once people react" in theirs


def test_a_public_profile_fragment_shows_held_levels_and_hides_opted_out_people(
    client, alice, charlie
) -> None:
    day = dt.date(2026, 11, 1)
    for level in (1, 2):
        Unlock.objects.create(user=alice, achievement="mentioned", level=level, day=day)
    Unlock.objects.create(user=alice, achievement="score", level=1, day=day)
    html = client.get(
        f"/achievements/people/{alice.pk}/", headers={"HX-Request": "true"}
    ).content.decode()
    assert html.index('data-key="mentioned"') < html.index('data-key="score"')  # best first
    assert "/achievements/art/mentioned/2.svg" in html
    assert "/achievements/art/mentioned/1.svg" not in html
    type(charlie).objects.filter(pk=charlie.pk).update(opted_out=True)
    assert client.get(f"/achievements/people/{charlie.pk}/").status_code == 404


def test_my_achievements_take_a_fixed_number_of_queries(alice, alice_client) -> None:
    day = dt.date(2026, 11, 1)
    Unlock.objects.create(user=alice, achievement="score", level=1, day=day)
    with CaptureQueriesContext(connection) as few:
        alice_client.get("/achievements/mine/")
    for key in ("mentioned", "moment", "networks"):
        for level in (1, 2, 3):
            Unlock.objects.create(user=alice, achievement=key, level=level, day=day)
    with CaptureQueriesContext(connection) as many:
        alice_client.get("/achievements/mine/")
    assert len(many) == len(few)


def test_the_public_profile_loads_the_persons_achievements(client, alice) -> None:
    from scoring.kloutids import klout_id_of
    from tests.factories.scoring import score_history

    score_history(user=alice, days=2)
    fragment = f"/achievements/people/{alice.pk}/"

    page = client.get(f"/p/{klout_id_of(user_id=alice.pk)}/").content.decode()

    assert f'hx-get="{fragment}"' in page
    assert f'href="{fragment}"' in page


def test_the_improve_card_sets_their_hours_beside_klouts_when_to_post_sample(
    alice, alice_client, settings, tmp_path
) -> None:
    from achievements import improve

    folder = tmp_path / improve.SAMPLE_FOLDER
    folder.mkdir()

    def at(hour: int) -> int:
        return int(dt.datetime(2014, 10, 15, hour, 30, tzinfo=dt.UTC).timestamp() * 1000)

    rows = [at(18)] * 3 + [at(2)]
    (folder / "user_timestamp_open_set_tw.tsv").write_text(
        "#user\t#actor\t#post\t#post_ts\t#action_ts\t#tz\n"
        + "".join(f"1\t2\t3\t0\t{ms}\tUTC\n" for ms in rows)
    )
    settings.SHARED_DATA_DIR = tmp_path
    improve.klout_sample_hours.cache_clear()
    main = accounts("alice", 1, user=alice)[0]
    fans = accounts("fanofalice", 2)
    react(
        [(f, main) for f in fans],
        at=timezone.now().replace(hour=18, minute=5) - dt.timedelta(days=2),
    )
    try:
        html = alice_client.get("/dashboard/improve/").content.decode()
    finally:
        improve.klout_sample_hours.cache_clear()
    assert "18:00-19:00 UTC: 2 reactions" in html
    assert "Klout's sample at that local hour: 3 of 4 reactions (75%)" in html
    assert "reactions peak at 18:00-19:00 local time (3 of 4, 75%)" in html


def test_klouts_sample_counts_each_reaction_at_its_authors_local_hour(settings, tmp_path) -> None:
    from achievements import improve

    folder = tmp_path / improve.SAMPLE_FOLDER
    folder.mkdir()

    def at(day: int, hour: int) -> int:
        return int(dt.datetime(2014, 10, day, hour, 30, tzinfo=dt.UTC).timestamp() * 1000)

    rows = [
        (at(15, 23), "Eastern Standard Time"),  # 19:30 in New York (daylight time)
        (at(15, 23), "Eastern Standard Time"),
        (at(15, 2), "Korea Standard Time"),  # 11:30 in Seoul
        (at(15, 2), "Australian Eastern Standard Time"),  # 13:30 in Sydney (daylight time)
        (at(15, 5), "\\N"),  # no zone: no local hour
    ]
    (folder / "user_timestamp_open_set_fb.tsv").write_text(
        "#user\t#actor\t#post\t#post_ts\t#action_ts\t#tz\n"
        + "".join(f"1\t2\t3\t0\t{ms}\t{zone}\n" for ms, zone in rows)
    )
    settings.SHARED_DATA_DIR = tmp_path
    improve.klout_sample_hours.cache_clear()
    try:
        hours = improve.klout_sample_hours()
    finally:
        improve.klout_sample_hours.cache_clear()

    assert hours is not None
    assert {h: n for h, n in enumerate(hours) if n} == {19: 2, 11: 1, 13: 1}


def _reacted_at_18_utc(alice) -> dt.datetime:
    moment = (timezone.now() - dt.timedelta(days=2)).replace(hour=18, minute=5)
    main = accounts("alice", 1, user=alice)[0]
    react([(f, main) for f in accounts("fanofalice", 2)], at=moment)
    return moment


def _local_hours(moment: dt.datetime, zone: str) -> str:
    import zoneinfo

    local = moment.astimezone(zoneinfo.ZoneInfo(zone))
    return f"{local.hour:02d}:00-{(local.hour + 1) % 24:02d}:00 {zone}: 2 reactions"


def test_the_improve_card_shows_the_hours_in_the_persons_own_time_zone(alice, alice_client):
    from accounts.models import User

    moment = _reacted_at_18_utc(alice)
    User.objects.filter(pk=alice.pk).update(time_zone="America/New_York")
    alice_client.cookies["tz"] = "Asia/Tokyo"  # their setting wins over the browser's

    html = alice_client.get("/dashboard/improve/").content.decode()

    assert _local_hours(moment, "America/New_York") in html
    assert "When your audience acts (America/New_York)" in html
    assert "18:00-19:00 UTC" not in html


def test_without_a_setting_the_browsers_time_zone_is_used_else_utc(alice, alice_client):
    moment = _reacted_at_18_utc(alice)

    alice_client.cookies["tz"] = "Asia/Tokyo"
    tokyo = alice_client.get("/dashboard/improve/").content.decode()
    alice_client.cookies["tz"] = "Mars/Olympus_Mons"
    unknown = alice_client.get("/dashboard/improve/").content.decode()

    assert _local_hours(moment, "Asia/Tokyo") in tokyo
    assert "18:00-19:00 UTC: 2 reactions" in unknown


def test_the_achievement_pages_have_a_heading_and_their_fragments_do_not(
    client, alice, alice_client
) -> None:
    whole = alice_client.get("/achievements/mine/").content.decode()
    public = client.get(f"/achievements/people/{alice.pk}/").content.decode()
    fragment = alice_client.get("/achievements/mine/", headers={"HX-Request": "true"})

    assert "<h1>Your achievements</h1>" in whole
    assert f"<h1>Achievements of {alice.public_name}</h1>" in public
    assert "<h1>" not in fragment.content.decode()


def test_the_improve_page_has_a_heading_and_its_fragment_does_not(alice_client) -> None:
    whole = alice_client.get("/dashboard/improve/").content.decode()
    fragment = alice_client.get("/dashboard/improve/", headers={"HX-Request": "true"})

    assert "<h1>How to improve</h1>" in whole
    assert 'id="improve"' in fragment.content.decode()
    assert "<h1>" not in fragment.content.decode()
