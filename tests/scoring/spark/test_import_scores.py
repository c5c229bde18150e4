"""export_window -> Spark -> import_scores publishes what a local run would, by the same path."""

from __future__ import annotations

import datetime as dt
import types
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from networks.models import NetworkAccount, Post, PostKind
from scoring.models import DailyScore, Explanation, LatestScore, RunStatus, ScoringRun
from scoring.services import compute_day, import_day
from scoring.spark.window_io import read_table
from tests.factories.accounts import UserFactory
from tests.factories.scoring import DAY, ScoringRunFactory, accounts, noon, react
from tests.scoring.spark.conftest import needs_java

pytestmark = pytest.mark.django_db
YESTERDAY = DAY - dt.timedelta(days=1)
FIELDS = (
    "score",
    "raw",
    "true_reach",
    "amplification",
    "network_score",
    "style",
    "style_reasons",
    "network_contributions",
    "influencers",
    "influencees",
    "moments",
    "last_activity_at",
)


@pytest.fixture
def graph() -> dict[str, Any]:
    """A star with posts and fans over a week, a person with two linked accounts, a hidden one."""
    star = accounts("star", 1)[0]
    fans = accounts("fan", 12)
    hidden = accounts("hidden", 1, opted_out=True)[0]
    person = UserFactory.create(display_name="Dana")
    NetworkAccount.objects.filter(pk__in=[fans[0].pk, fans[1].pk]).update(user=person)
    for back in range(0, 7):
        post = Post.objects.create(
            network=star.network,
            account=star,
            external_id=f"p{back}",
            posted_at=noon(DAY - dt.timedelta(days=back)),
            text=f"post {back}",
            kind=PostKind.ORIGINAL,
        )
        react(
            [(f, star) for f in fans[: 2 + back]], at=noon(DAY - dt.timedelta(days=back)), post=post
        )
        react([(fans[0], fans[1]), (fans[1], fans[0])], at=noon(DAY - dt.timedelta(days=back)))
        react([(hidden, star)], at=noon(DAY - dt.timedelta(days=back)))
    return {"star": star, "hidden": hidden, "person": person}


def _rows(run: ScoringRun) -> dict[tuple[int | None, int | None], tuple[Any, ...]]:
    return {
        (d["account_id"], d["user_id"]): tuple(d[f] for f in FIELDS)
        for d in DailyScore.objects.filter(run=run).values("account_id", "user_id", *FIELDS)
    }


def _explanations(run: ScoringRun) -> set[tuple[Any, ...]]:
    return set(
        Explanation.objects.filter(score__run=run).values_list(
            "score__account_id",
            "score__user_id",
            "points",
            "kind",
            "text",
            "position",
            "about_account_id",
        )
    )


class _Reference(Exception):
    """Raised to roll the local reference run back."""


def _local_reference() -> tuple[dict[Any, Any], set[Any]]:
    """Today's rows and explanations from a local run, rolled back (published runs stay)."""
    try:
        with transaction.atomic():
            local = compute_day(day=DAY)
            assert local.status == RunStatus.PUBLISHED
            reference = _rows(local), _explanations(local)
            raise _Reference
    except _Reference:
        return reference


@needs_java
@pytest.mark.slow
def test_imported_spark_scores_publish_exactly_what_a_local_run_would(graph, spark, tmp_path):
    # given yesterday published locally, and today's local scores as the reference
    assert compute_day(day=YESTERDAY).status == RunStatus.PUBLISHED
    expected, expected_why = _local_reference()
    assert expected_why, "the reference day should explain some changes"
    assert not ScoringRun.objects.filter(day=DAY).exists()

    # when the window goes through Spark and comes back
    call_command("export_window", day=DAY.isoformat(), out=str(tmp_path / "window"))
    from scoring.spark.job import run

    run(spark, str(tmp_path / "window"), str(tmp_path / "scores"))
    call_command("import_scores", str(tmp_path / "scores"), day=DAY.isoformat())

    # then the day is published with the same rows and explanations, and the read model shows it
    imported = ScoringRun.objects.get(day=DAY)
    assert imported.status == RunStatus.PUBLISHED
    assert imported.stats["engine"] == "spark"
    assert _rows(imported) == expected
    assert _explanations(imported) == expected_why
    latest = LatestScore.objects.get(account=graph["star"])
    assert latest.daily.run_id == imported.pk
    assert LatestScore.objects.filter(user=graph["person"]).exists()
    # the hidden account never left the database
    exported = read_table(tmp_path / "window" / "accounts").column("account_id").to_pylist()
    assert graph["hidden"].pk not in exported
    assert graph["star"].pk in exported

    # importing again changes nothing: published history is never rewritten
    before = DailyScore.objects.filter(run=imported).count()
    call_command("import_scores", str(tmp_path / "scores"), day=DAY.isoformat())
    assert ScoringRun.objects.filter(day=DAY).count() == 1
    assert DailyScore.objects.filter(run=imported).count() == before


@pytest.mark.parametrize("status", [RunStatus.HELD, RunStatus.PUBLISHED])
def test_import_leaves_an_existing_held_or_published_run_as_it_is(status):
    existing = ScoringRunFactory.create(day=DAY, status=status)
    scores = types.SimpleNamespace(meta={"day": DAY.isoformat(), "version": existing.version.name})

    run = import_day(day=DAY, scores=scores)  # type: ignore[arg-type]

    assert run.pk == existing.pk
    assert ScoringRun.objects.get(pk=existing.pk).status == status
    assert ScoringRun.objects.filter(day=DAY).count() == 1


def test_import_refuses_scores_for_another_day():
    scores = types.SimpleNamespace(meta={"day": "2020-01-01", "version": "klout-2026.4"})

    with pytest.raises(ValueError, match="not 2026-11-01"):
        import_day(day=DAY, scores=scores)  # type: ignore[arg-type]
    assert not ScoringRun.objects.exists()


def test_import_scores_says_clearly_when_the_directory_holds_no_scores(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"no scores\.json"):
        call_command("import_scores", str(tmp_path), day=DAY.isoformat())


def test_export_window_refuses_a_directory_that_is_not_empty(tmp_path):
    from django.core.management.base import CommandError

    (tmp_path / "something").write_text("x")
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_window", day=DAY.isoformat(), out=str(tmp_path))
