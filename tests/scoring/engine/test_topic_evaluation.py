"""The spec's topic evaluation (item 6): dump parsing, cut, baselines, JSON shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from scoring.engine import topic_evaluation as te

DUMP = settings.SHARED_DATA_DIR / "stackexchange-quantumcomputing"


def _q(when: str, tags: str) -> dict[str, str]:
    return {"PostTypeId": "1", "OwnerUserId": "10", "CreationDate": when, "Tags": tags}


def _a(parent: str, owner: str, when: str) -> dict[str, str]:
    return {"PostTypeId": "2", "ParentId": parent, "OwnerUserId": owner, "CreationDate": when}


def _xml(path: Path, root: str, rows: list[dict[str, str]]) -> None:
    body = "".join("<row " + " ".join(f'{k}="{v}"' for k, v in r.items()) + " />\n" for r in rows)
    path.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<{root}>\n{body}</{root}>\n')


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Two questions tagged <qiskit>, answers before and after the cut, votes and comments."""
    posts = [
        {"Id": "1", **_q("2018-03-01T00:00:00", "&lt;qiskit&gt;&lt;gates&gt;")},
        {"Id": "2", **_a("1", "11", "2018-03-02T00:00:00")},
        {"Id": "3", **_a("1", "12", "2018-03-03T00:00:00")},
        {"Id": "4", **_q("2018-04-01T00:00:00", "&lt;qiskit&gt;")},
        {"Id": "5", **_a("4", "11", "2018-04-02T00:00:00")},
    ]
    comments = [
        {"Id": "1", "PostId": "2", "UserId": "10", "CreationDate": "2018-03-02T01:00:00"},
        {"Id": "2", "PostId": "2", "UserId": "11", "CreationDate": "2018-03-02T02:00:00"},
        {"Id": "3", "PostId": "5", "UserId": "12", "CreationDate": "2018-04-03T00:00:00"},
    ]  # fmt: skip
    votes = [
        {"Id": "1", "PostId": "2", "VoteTypeId": "2", "CreationDate": "2018-03-02T00:00:00"},
        {"Id": "2", "PostId": "2", "VoteTypeId": "2", "CreationDate": "2018-04-05T00:00:00"},
        {"Id": "3", "PostId": "5", "VoteTypeId": "2", "CreationDate": "2018-04-06T00:00:00"},
        {"Id": "4", "PostId": "2", "VoteTypeId": "1", "CreationDate": "2018-03-04T00:00:00"},
    ]  # fmt: skip
    _xml(tmp_path / "Posts.xml", "posts", posts)
    _xml(tmp_path / "Comments.xml", "comments", comments)
    _xml(tmp_path / "Votes.xml", "votes", votes)
    return tmp_path


def test_answers_take_their_questions_tags_and_the_cut_is_the_median_answer(tiny):
    d = te.read_dump(tiny)

    assert d.post_tags["2"] == ("qiskit", "gates")
    assert te.iso(te.cut_time(d)) == "2018-03-03T00:00:00Z"


def test_reactions_are_up_votes_and_comments_by_other_people(tiny):
    d = te.read_dump(tiny)
    prep = te.prepare(d, te.cut_time(d))

    # post 2 (by 11): before the cut an up-vote and 10's comment (11's own comment is not one)
    assert prep.reactions_before[("11", "qiskit")] == 2
    # after: the second up-vote on post 2; post 5 (by 11) one up-vote and 12's comment
    assert prep.reactions_after[("11", "qiskit")] == 3
    assert prep.posts_before[("10", "qiskit")] == 1
    # answers at or after the cut: 12 on question 1 (at the cut), 11 on question 4
    assert prep.answers_after_tags == {"11": {"qiskit"}, "12": {"qiskit", "gates"}}


def test_topic_rows_serialise_as_the_spec_says():
    row = te.TopicRow(te.LEADERBOARDS, "2018-05-27T11:11:35Z", "topic-score", 0.5, 43, [0.4, 0.6])
    top = te.TopicRow(te.TOP_TOPICS, "2018-05-27T11:11:35Z", "topics", 0.4, 37, [0.3, 0.5])

    assert row.as_json() == {
        "set": "stackexchange-quantumcomputing topic leaderboards",
        "cut": "2018-05-27T11:11:35Z",
        "method": "topic-score",
        "mean_rho": 0.5,
        "topics": 43,
        "ci95": {"mean_rho": [0.4, 0.6]},
    }
    assert set(top.as_json()) == {"set", "cut", "method", "p_at_3", "users", "ci95"}


@pytest.mark.slow
@pytest.mark.skipif(not DUMP.is_dir(), reason="the Stack Exchange dump is not here")
def test_on_the_dump_topic_scores_beat_every_leaderboard_baseline():
    rows = te.evaluate_topics(DUMP, n_boot=50)
    board = {r.method: r for r in rows if r.set == te.LEADERBOARDS}

    assert board["posts-in-topic"].count == 43  # the spec's qualifying tags
    assert board["posts-in-topic"].value == pytest.approx(0.418, abs=0.01)
    assert board["topic-score"].value > max(
        board[m].value for m in ("posts-in-topic", "reactions-in-topic", "all-reactions")
    )
