"""Importers of real dataset files: idempotent, streamed, loud about bad input."""

from __future__ import annotations

import gzip
import itertools
import lzma
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Sum

from networks.importers import ImportFormatError, make_importer
from networks.models import (
    Interaction,
    Network,
    NetworkAccount,
    Post,
    SuppressedAccount,
    SyncRun,
    SyncStatus,
    suppression_key,
)
from networks.services import ImportAborted, run_import, start_import
from tests.networks.conftest import FIXTURES

pytestmark = pytest.mark.django_db
DATA = settings.SHARED_DATA_DIR


def import_file(format: str, path: Path | str, **options: object) -> SyncRun:
    run = start_import(format=format, path=str(path), **options)  # type: ignore[arg-type]
    return run_import(sync_run_id=run.pk, batch_size=1000)


def test_higgs_import_maps_types_and_a_second_run_inserts_nothing(higgs_slice):
    first = import_file("higgs", higgs_slice)
    second = import_file("higgs", higgs_slice)

    assert (first.read_count, first.inserted_count) == (3000, 3000)
    assert (second.inserted_count, second.skipped_count) == (0, 3000)
    kinds = set(Interaction.objects.values_list("kind", flat=True))
    assert kinds == {"share", "mention", "reply"}
    # The first two lines share (a, b, ts) as MT and RE: two typed events, both kept.
    assert (
        Interaction.objects.filter(source_key__startswith="223789>213163@1341100972").count() == 2
    )


def test_malformed_lines_are_counted_and_reported_with_line_numbers(tmp_path, higgs_slice):
    path = tmp_path / "broken.txt"
    with gzip.open(higgs_slice, "rt") as src:
        lines = src.readlines()[:10]
    lines[3] = "this is not an event\n"
    lines[7] = "1 2 notatime RT\n"
    path.write_text("".join(lines))

    run = import_file("higgs", path)

    assert (run.read_count, run.rejected_count, run.inserted_count) == (8, 2, 8)
    assert run.errors[0].startswith("line 4:")
    assert run.errors[1].startswith("line 8:")


def test_strict_import_aborts_with_nothing_written(tmp_path, higgs_slice):
    path = tmp_path / "broken.txt"
    with gzip.open(higgs_slice, "rt") as src:
        lines = src.readlines()[:2500]
    lines[2400] = "garbage\n"
    path.write_text("".join(lines))
    run = start_import(format="higgs", path=str(path), strict=True)

    with pytest.raises(ImportAborted, match="line 2401"):
        run_import(sync_run_id=run.pk, batch_size=1000)

    run.refresh_from_db()
    assert run.status == SyncStatus.FAILED
    assert not Interaction.objects.exists()
    assert not NetworkAccount.objects.exists()


def test_wrong_format_is_one_clear_command_error():
    with pytest.raises(CommandError, match="does not look like a Higgs"):
        call_command("import_dataset", "higgs", str(DATA / "collegemsg" / "README.md"))


def test_unreadable_file_is_one_clear_command_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_dataset", "snap", str(tmp_path / "missing.txt"))


def test_truncated_gzip_is_reported_not_raised(tmp_path, higgs_slice):
    path = tmp_path / "cut.gz"
    path.write_bytes(higgs_slice.read_bytes()[:4000])

    with pytest.raises(ImportFormatError, match="cannot read"):
        import_file("higgs", path)


def test_import_dataset_command_prints_a_summary(higgs_slice):
    out = StringIO()

    call_command("import_dataset", "higgs", str(higgs_slice), "--limit", "500", stdout=out)

    assert "read 500 interactions, inserted 500" in out.getvalue()


def test_snap_collegemsg_keeps_repeated_messages_as_distinct_events():
    run = import_file("snap", DATA / "collegemsg" / "CollegeMsg.txt.gz", kind="message")

    assert run.inserted_count == 59_835
    assert NetworkAccount.objects.filter(network="collegemsg").count() == 1_899
    assert Interaction.objects.filter(source_key__contains="#2").exists()


def test_snap_rejects_an_unknown_kind():
    with pytest.raises(ImportFormatError, match="--kind"):
        start_import(format="snap", path=str(DATA / "collegemsg" / "CollegeMsg.txt.gz"), kind="x")


def test_stackexchange_dump_yields_answers_comments_accepts_and_tagged_posts():
    run = import_file("stackexchange", DATA / "stackexchange-quantumcomputing")

    by_kind = {
        kind: Interaction.objects.filter(network="stackexchange", kind=kind).count()
        for kind in ("reply", "comment", "like")
    }
    assert by_kind["reply"] > 1000
    assert by_kind["comment"] > 3000
    assert by_kind["like"] > 300
    assert run.inserted_count == sum(by_kind.values())
    question = Post.objects.get(network="stackexchange", external_id="1")
    assert question.tags
    assert question.kind == "original"
    # an answer is about its question's topics: it carries the question's tags (issue 14)
    answer = Post.objects.get(network="stackexchange", external_id="18")  # accepted answer of 1
    assert answer.kind == "reply"
    assert answer.tags == question.tags


def test_klout_sample_imports_both_files_with_posts():
    run = import_file("kloutsample", DATA / "klout-when-to-post-sample")

    assert run.inserted_count == 2000
    assert set(Interaction.objects.values_list("kind", flat=True)) == {"comment", "share"}
    assert Interaction.objects.filter(post__isnull=False).count() == 2000


def test_progress_only_rises_and_ends_at_one_across_plain_files():
    # The Klout sample is two plain (uncompressed) files: the first closes with its text stream
    # before the second opens, and must still count as fully read.
    importer = make_importer("kloutsample", settings.SHARED_DATA_DIR / "klout-when-to-post-sample")
    seen = [importer.progress.fraction() for _ in importer.parse()]

    assert len(importer.files()) == 2
    assert all(b >= a for a, b in itertools.pairwise(seen))
    assert seen[-1] == 1.0


def test_x_archive_turns_the_owners_tweets_into_posts_and_interactions():
    run = import_file("x_archive", FIXTURES / "tweets.js", account="111")

    made = {
        (i.kind, i.receiver.external_id) for i in Interaction.objects.select_related("receiver")
    }
    assert made == {
        ("share", "222"),
        ("reply", "333"),
        ("mention", "444"),
        ("quote", "222"),
    }
    assert Post.objects.filter(account__external_id="111").count() == 3
    assert run.rejected_count == 1
    assert run.errors[0].startswith("line 5:")


def test_x_archive_needs_the_owner():
    with pytest.raises(ImportFormatError, match="--account"):
        start_import(format="x_archive", path=str(FIXTURES / "tweets.js"))


def test_mastodon_outbox_maps_notes_boosts_replies_and_mentions():
    run = import_file("mastodon", FIXTURES / "outbox.json")

    made = sorted(
        (i.kind, i.receiver.external_id.rsplit("/", 1)[-1])
        for i in Interaction.objects.select_related("receiver")
    )
    assert made == [("mention", "carol"), ("reply", "bob"), ("share", "carol")]
    assert Post.objects.get(external_id__endswith="0001").tags == ["introduction"]
    assert run.rejected_count == 1


def test_mastodon_importer_refuses_other_json(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"hello": [1, 2]}')

    with pytest.raises(ImportFormatError, match="not an ActivityPub outbox"):
        start_import(format="mastodon", path=str(path)) and import_file("mastodon", path)


def test_demo_slice_is_idempotent(settings, tmp_path):
    from networks.demo import import_demo_slice

    out = StringIO()
    first = import_demo_slice(stdout=out)
    second = import_demo_slice(stdout=out)

    assert first > 80_000
    assert second == 0


def test_a_bulk_import_does_not_store_again_an_account_whose_person_deleted_themselves(
    higgs_slice,
):
    with gzip.open(higgs_slice, "rt") as lines:
        deleted = next(lines).split()[0]  # the first actor of the slice
    SuppressedAccount.objects.create(
        network=Network.HIGGS, key=suppression_key(Network.HIGGS, deleted)
    )

    run = import_file("higgs", higgs_slice)

    assert run.status == SyncStatus.SUCCEEDED
    assert NetworkAccount.objects.filter(network=Network.HIGGS).exists()
    assert not NetworkAccount.objects.filter(network=Network.HIGGS, external_id=deleted).exists()
    assert not SuppressedAccount.objects.filter(key=deleted).exists()  # the marker names nobody


def _se_table(folder: Path, name: str, rows: list[dict[str, str]]) -> None:
    body = "".join("  <row " + " ".join(f'{k}="{v}"' for k, v in r.items()) + " />\n" for r in rows)
    (folder / f"{name}.xml").write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n<{name.lower()}>\n{body}</{name.lower()}>\n'
    )


def _se_dump(folder: Path, up_votes: dict[str, int]) -> Path:
    """A question (1) and its answer (2) by two users, with UP_VOTES per post, a down-vote and
    an accept."""
    folder.mkdir()
    _se_table(folder, "Users", [{"Id": "10"}, {"Id": "11"}])
    when = {"CreationDate": "2018-03-12T17:00:00"}
    _se_table(
        folder,
        "Posts",
        [
            {"Id": "1", "PostTypeId": "1", "OwnerUserId": "10", "Tags": "&lt;qiskit&gt;", **when},
            {"Id": "2", "PostTypeId": "2", "ParentId": "1", "OwnerUserId": "11", **when},
        ],
    )
    votes = [{"PostId": p, "VoteTypeId": "2"} for p, n in up_votes.items() for _ in range(n)]
    votes += [{"PostId": "2", "VoteTypeId": "3"}, {"PostId": "2", "VoteTypeId": "1"}]
    _se_table(folder, "Votes", [{"Id": str(i), **v, **when} for i, v in enumerate(votes, 1)])
    return folder


def test_stackexchange_up_votes_are_counted_per_post_and_a_reimport_only_raises_them(tmp_path):
    import_file("stackexchange", _se_dump(tmp_path / "a", {"1": 3, "2": 1}))

    stored = dict(Post.objects.values_list("external_id", "anonymous_reactions"))
    assert stored == {"1": 3, "2": 1}  # the down-vote and the accept are not up-votes
    assert Interaction.objects.filter(kind="like").count() == 1  # the accept stays a like

    import_file("stackexchange", _se_dump(tmp_path / "b", {"1": 5, "2": 0}))
    stored = dict(Post.objects.values_list("external_id", "anonymous_reactions"))
    assert stored == {"1": 5, "2": 1}  # a later dump raises a count, never lowers it


def test_stackexchange_dump_stores_every_up_vote_on_a_stored_post():
    import_file("stackexchange", DATA / "stackexchange-quantumcomputing")

    with lzma.open(DATA / "stackexchange-quantumcomputing" / "Votes.xml.xz", "rt") as votes:
        up = [ET.fromstring(line.strip()).attrib for line in votes if 'VoteTypeId="2"' in line]
    stored = set(Post.objects.filter(network="stackexchange").values_list("external_id", flat=True))
    expected = sum(1 for row in up if row["PostId"] in stored)
    assert expected > 9000
    assert Post.objects.aggregate(n=Sum("anonymous_reactions"))["n"] == expected
