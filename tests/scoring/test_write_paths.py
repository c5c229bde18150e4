"""Writing scores and the read model: the COPY route stores exactly what the ORM route stores.

A small graph with everything the rows carry (linked users, posts that become moments, empty
handles, text needing escapes, history 1/7/30 days back so changes and explanations exist) is
scored over several days twice: through `scoring.write`'s COPY route and the read model swapped
in as a fresh table, then through the ORM route and the read model rewritten row by row (the
route of other databases). Every stored row, its JSON as PostgreSQL keeps it, and the API JSON
served through the cache must be the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from networks.models import NetworkAccount, Post
from scoring import read_model, services, write
from scoring.models import (
    AlgorithmVersion,
    DailyScore,
    Explanation,
    LatestScore,
    ScoringRun,
    bucket_for,
)
from tests.factories.accounts import UserFactory
from tests.factories.scoring import DAY, accounts, noon, react

pytestmark = pytest.mark.django_db

DAYS = [DAY - dt.timedelta(days=d) for d in (30, 7, 1, 0)]
JSON_FIELDS = ("style_reasons", "network_contributions", "influencers", "influencees", "moments")


@pytest.fixture
def graph(settings) -> None:
    """Stars with fans and posts, a user with two accounts, awkward text, activity over 30 days."""
    settings.KLOUT_ANOMALY_MAX_MOVED_FRACTION = 1.0  # every day publishes
    stars = accounts("star", 3)
    fans = accounts("fan", 12)
    quiet = accounts("quiet", 1)[0]
    NetworkAccount.objects.filter(pk=quiet.pk).update(handle="", external_id="ext-only")
    NetworkAccount.objects.filter(pk=stars[0].pk).update(display_name='Tab\there "q" \\ é')
    owner = UserFactory.create(email="owner@example.com", display_name="")
    NetworkAccount.objects.filter(pk__in=[stars[1].pk, stars[2].pk]).update(user=owner)
    posts = [
        Post.objects.create(
            network=star.network,
            account=star,
            external_id=f"p{n}",
            posted_at=noon(DAY - dt.timedelta(days=n + 1)),
            text=f"post {n}\twith a tab,\nnewline, \\ backslash and “quotes” " + "long " * 20,
        )
        for n, star in enumerate(stars)
    ]
    for back in range(35):
        at = noon(DAY - dt.timedelta(days=back))
        some = fans[: 2 + (back * 5) % 10]
        react([(f, stars[back % 3]) for f in some], at=at, post=posts[back % 3])
        react([(fans[back % 12], quiet), (quiet, fans[(back + 1) % 12])], at=at)
    react([(f, stars[0]) for f in fans], at=noon(DAY))  # today moves star0


def _snapshot() -> dict[str, Any]:
    """Everything stored, keyed by subject and day (ids differ between the two passes)."""

    def subject(account_id: int | None, user_id: int | None) -> tuple[str, int | None]:
        return ("account", account_id) if account_id is not None else ("user", user_id)

    skip = {"id", "run", "daily"}
    score_fields = [f.attname for f in DailyScore._meta.concrete_fields if f.name not in skip]
    scores = {
        (subject(r["account_id"], r["user_id"]), r["day"]): r
        for r in DailyScore.objects.values(*score_fields)
    }
    by_id = {
        pk: (subject(a, u), day)
        for pk, a, u, day in DailyScore.objects.values_list("pk", "account_id", "user_id", "day")
    }
    explanations = sorted(
        (by_id[score_id], position, points, kind, text, about)
        for score_id, position, points, kind, text, about in Explanation.objects.values_list(
            "score_id", "position", "points", "kind", "text", "about_account_id"
        )
    )
    latest_fields = [f.attname for f in LatestScore._meta.concrete_fields if f.name not in skip]
    latest = {
        subject(r["account_id"], r["user_id"]): r
        for r in LatestScore.objects.values(*latest_fields)
    }
    snap = {
        "scores": scores,
        "explanations": explanations,
        "latest": latest,
        "cached": {
            key: services.latest_api_json(user_id=r["user_id"], account_id=r["account_id"])
            for key, r in latest.items()
        },
        "runs": sorted(ScoringRun.objects.values_list("day", "status")),
    }
    if connection.vendor == "postgresql":  # JSON as the database keeps it, not as Python reads it
        columns = ", ".join(f"{f}::text" for f in JSON_FIELDS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT account_id, user_id, day, {columns} FROM {DailyScore._meta.db_table}"
            )
            snap["score_json"] = {
                (subject(a, u), day): rest for a, u, day, *rest in cursor.fetchall()
            }
    return snap


def _score_days(capture: Any) -> dict[str, Any]:
    cache.clear()
    with capture(execute=True):
        for day in DAYS:
            services.compute_day(day=day)
    return _snapshot()


def _forget_scores() -> None:
    ScoringRun.objects.all().delete()  # scores, explanations and read model go with their runs
    AlgorithmVersion.objects.update(calibration={})  # so the second pass calibrates afresh


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="only PostgreSQL has a second (COPY) route"
)
def test_copy_route_stores_what_the_orm_route_stores(
    graph, monkeypatch, django_capture_on_commit_callbacks
):
    assert write.use_copy()
    fast = _score_days(django_capture_on_commit_callbacks)
    _forget_scores()
    monkeypatch.setattr(write, "use_copy", lambda: False)
    monkeypatch.setattr(read_model, "_swap_in_fresh_table", read_model._rewrite_rows)

    orm = _score_days(django_capture_on_commit_callbacks)

    assert fast["runs"] == orm["runs"]
    assert len(fast["scores"]) > 4 * 16
    assert fast["scores"] == orm["scores"]
    assert fast["score_json"] == orm["score_json"]
    assert fast["explanations"]
    assert fast["explanations"] == orm["explanations"]
    assert fast["latest"] == orm["latest"]
    assert None not in fast["cached"].values()
    assert fast["cached"] == orm["cached"]


def test_written_rows_carry_what_the_pipeline_promises(graph, django_capture_on_commit_callbacks):
    snap = _score_days(django_capture_on_commit_callbacks)

    quiet = NetworkAccount.objects.get(external_id="ext-only")
    star0 = NetworkAccount.objects.get(handle="star0")
    star_today = snap["scores"][(("account", star0.pk), DAY)]
    assert star_today["moments"][0]["text"].startswith("post 0 with a tab, newline, \\ backslash")
    assert star_today["moments"][0]["text"].endswith("…")
    handles = dict(NetworkAccount.objects.values_list("pk", "external_id"))
    assert {handles[p["account_id"]] for p in star_today["influencees"]} <= {
        f"fan{i}" for i in range(12)
    }
    assert star_today["last_activity_at"] == noon(DAY)
    assert any(e[0] == (("account", star0.pk), DAY) for e in snap["explanations"])
    fan_today = snap["scores"][(("account", quiet.pk - 1), DAY)]  # fan11 reacts to the quiet one
    assert {handles[p["account_id"]] for p in fan_today["influencers"]} >= {"ext-only"}


def test_read_model_matches_the_daily_scores_it_is_built_from(
    graph, django_capture_on_commit_callbacks
):
    snap = _score_days(django_capture_on_commit_callbacks)
    version = AlgorithmVersion.objects.get(is_current=True)

    assert snap["latest"]
    for latest in LatestScore.objects.select_related("daily", "account", "user"):
        daily = latest.daily
        assert daily.day == DAY
        subject = {"account_id": daily.account_id} if daily.account_id else {"user": daily.user}
        history = DailyScore.objects.published().filter(version=version, **subject)
        change = {}
        for back in (1, 7, 30):
            past = history.filter(day=DAY - dt.timedelta(days=back)).first()
            change[back] = None if past is None else read_model.change_of(daily.score, past.score)
        if latest.account is not None:
            account = latest.account
            who = (account.network, account.handle or account.external_id, account.display_name)
        else:
            best = (
                DailyScore.objects.filter(run=daily.run, account__user=latest.user)
                .order_by("-score", "pk")
                .select_related("account")
                .first()
            )
            assert best is not None
            assert best.account is not None
            assert latest.user is not None
            handle = best.account.handle or best.account.external_id
            who = ("", handle, latest.user.display_name or latest.user.email.split("@")[0])
        expected = {
            "subject": "account" if latest.account_id else "user",
            "id": latest.account_id or latest.user_id,
            "network": who[0],
            "handle": who[1],
            "display_name": who[2],
            "score": round(daily.score, 2),
            "shown": round(daily.score),
            "bucket": bucket_for(daily.score),
            "day": DAY.isoformat(),
            "version": version.name,
            "change_1d": change[1],
            "change_7d": change[7],
            "change_30d": change[30],
            "true_reach": round(daily.true_reach, 1),
            "amplification": round(daily.amplification, 1),
            "network_score": round(daily.network_score, 1),
            "style": daily.style,
        }
        assert (latest.change_1d, latest.change_7d, latest.change_30d) == (
            change[1],
            change[7],
            change[30],
        )
        assert (latest.network, latest.handle, latest.display_name) == who
        assert not latest.hidden
        key = ("account", latest.account_id) if latest.account_id else ("user", latest.user_id)
        assert snap["cached"][key] == expected
    user_rows = LatestScore.objects.filter(user__isnull=False)
    assert user_rows.count() == 1
    assert user_rows.get().display_name == "owner"
    assert LatestScore.objects.get(account__external_id="ext-only").handle == "ext-only"
    assert any(r.change_30d is not None for r in LatestScore.objects.all())


@pytest.mark.parametrize("dtype", ["float32", "float64"])  # the packed sort, and lexsort
def test_top_k_per_person_keeps_weight_ties_in_account_order(dtype):
    """`_group_top` sorts on (person, -weight) only: ties keep the smaller account first, as a
    full (person, -weight, account) sort would, when accounts come ascending per person."""
    import numpy as np

    from scoring.score_rows import _group_top

    rng = np.random.default_rng(3)
    key = np.sort(rng.integers(0, 50, 4000))
    other = np.concatenate(
        [np.sort(rng.choice(400, size=c, replace=False)) for c in np.bincount(key)]
    )
    weight = np.asarray(rng.integers(1, 4, key.shape[0]), dtype=dtype)  # many ties
    order = np.lexsort((other, -weight, key))

    got = _group_top(key, other, weight, 5)

    full_key, full_other = key[order], other[order]
    starts = np.flatnonzero(np.r_[True, full_key[1:] != full_key[:-1]])
    rank = np.arange(full_key.shape[0]) - np.repeat(starts, np.diff(np.r_[starts, key.shape[0]]))
    assert got[0].tolist() == full_key[rank < 5].tolist()
    assert got[1].tolist() == full_other[rank < 5].tolist()


@given(
    st.lists(
        st.tuples(
            st.integers(0, 2**31 - 1),
            st.floats(min_value=0.0, exclude_min=True, allow_infinity=False, width=32),
        ),
        max_size=60,
    )
)
def test_the_packed_sort_orders_as_lexsort_by_key_then_heaviest(pairs):
    import numpy as np

    from scoring.score_rows import _key_then_heaviest

    key = np.asarray([p[0] % 7 if p[0] % 3 else p[0] for p in pairs], dtype=np.int32)
    weight = np.asarray([p[1] for p in pairs], dtype=np.float32)
    expected = np.lexsort((-weight, key))
    assert _key_then_heaviest(key, weight).tolist() == expected.tolist()


def test_rows_shaped_a_slice_at_a_time_match_rows_shaped_at_once(
    graph, monkeypatch, django_capture_on_commit_callbacks
):
    from scoring import score_rows

    whole = _score_days(django_capture_on_commit_callbacks)
    _forget_scores()
    monkeypatch.setattr(score_rows, "CHUNK", 3)  # several slices, people split between them

    sliced = _score_days(django_capture_on_commit_callbacks)

    assert len(whole["scores"]) > 3 * 4
    assert sliced["scores"] == whole["scores"]
    assert sliced.get("score_json") == whole.get("score_json")
    assert sliced["explanations"] == whole["explanations"]


@given(st.floats(min_value=0.0, max_value=1e11, allow_nan=False))
def test_top_five_weights_are_written_as_python_rounds_them(weight):
    """The top five's weights are shaped as text without a float round trip; the text must be
    the one ``json.dumps(round(w, 4))`` gives, or the two write routes would store different
    JSON."""
    from scoring.score_rows import _four_places

    assert _four_places(weight) == repr(round(weight, 4))
