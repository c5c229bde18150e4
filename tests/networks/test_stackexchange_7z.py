"""Stack Exchange dumps as .7z: a site's archive, or a folder of per-table archives.

Archives are built here with py7zr from slices of the real quantumcomputing dump (the first rows of
each table, with the XML header and footer lines), and every import is compared with importing the
same tables as plain .xml in a folder, which is the reference.
"""

from __future__ import annotations

import functools
import itertools
import lzma
import shutil
import tempfile
from collections.abc import Generator
from io import StringIO
from pathlib import Path
from typing import Any, NamedTuple

import hypothesis
import py7zr
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from networks.importers import ImportFormatError, make_importer
from networks.importers.base import Item
from networks.models import Interaction, NetworkAccount, Post, SyncRun, SyncStatus
from networks.records import AccountRecord, InteractionRecord, PostRecord
from networks.services import run_import, start_import

DUMP = settings.SHARED_DATA_DIR / "stackexchange-quantumcomputing"
TABLES = ("Users", "Posts", "Comments", "Votes")
# Rows per table in the slices: enough for every kind of interaction (votes are mostly anonymous
# up/down votes, so they need more rows to hold some accepted answers).
ROWS = {"Users": 300, "Posts": 300, "Comments": 300, "Votes": 1500, "Badges": 50, "Tags": 20}


@functools.cache
def table_slice(table: str, rows: int) -> bytes:
    """The table's XML header lines, its first ROWS rows and its closing line, as in the dump."""
    lines = lzma.decompress((DUMP / f"{table}.xml.xz").read_bytes()).splitlines(keepends=True)
    head = [line for line in lines[:2] if b"<row" not in line]
    body = [line for line in lines if line.lstrip().startswith(b"<row")][:rows]
    assert lines[-1].strip().startswith(b"</")
    return b"".join([*head, *body, lines[-1]])


def tables(rows: dict[str, int] | None = None) -> dict[str, bytes]:
    return {name: table_slice(name, count) for name, count in (rows or ROWS).items()}


def write_7z(path: Path, members: dict[str, bytes], **options: Any) -> Path:
    with py7zr.SevenZipFile(path, "w", **options) as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return path


def plain_folder(folder: Path, data: dict[str, bytes]) -> Path:
    folder.mkdir()
    for name in TABLES:
        if name in data:
            (folder / f"{name}.xml").write_bytes(data[name])
    return folder


def site_archive(path: Path, data: dict[str, bytes], **options: Any) -> Path:
    # Extra tables (Badges, Tags) sit in the archive as in a real dump, and must be ignored.
    return write_7z(path, {f"{name}.xml": content for name, content in data.items()}, **options)


def table_archives(folder: Path, data: dict[str, bytes], prefix: str = "") -> Path:
    folder.mkdir()
    for name in TABLES:
        write_7z(folder / f"{prefix}{name}.7z", {f"{name}.xml": data[name]})
    return folder


def mixed_folder(folder: Path, data: dict[str, bytes]) -> Path:
    """Posts and Votes as .7z, Users as .xml.xz, Comments as plain .xml."""
    folder.mkdir()
    write_7z(folder / "Posts.7z", {"Posts.xml": data["Posts"]})
    write_7z(folder / "Votes.7z", {"Votes.xml": data["Votes"]})
    (folder / "Users.xml.xz").write_bytes(lzma.compress(data["Users"]))
    (folder / "Comments.xml").write_bytes(data["Comments"])
    return folder


def parsed(path: Path) -> list[Item]:
    return list(make_importer("stackexchange", path).parse())


class Store(NamedTuple):
    accounts: set[tuple[Any, ...]]
    posts: set[tuple[Any, ...]]
    interactions: set[tuple[Any, ...]]


def store(network: str) -> Store:
    """What a network holds, without its database ids (so two networks can be compared)."""
    return Store(
        set(
            NetworkAccount.objects.filter(network=network).values_list(
                "external_id", "handle", "display_name"
            )
        ),
        {
            (*row[:-1], tuple(row[-1]))
            for row in Post.objects.filter(network=network).values_list(
                "external_id", "account__external_id", "posted_at", "text", "kind", "tags"
            )
        },
        set(
            Interaction.objects.filter(network=network).values_list(
                "source_key",
                "kind",
                "actor__external_id",
                "receiver__external_id",
                "occurred_at",
                "post__external_id",
            )
        ),
    )


def import_path(path: Path, **options: Any) -> SyncRun:
    run = start_import(format="stackexchange", path=str(path), **options)
    return run_import(sync_run_id=run.pk, batch_size=500)


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the importer's temporary extraction folders go, to see that they are removed."""
    root = tmp_path / "temp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


# --- the same records and the same store as plain .xml --------------------------------------


@pytest.mark.django_db
def test_site_archive_imports_the_same_store_as_a_folder_of_plain_xml(tmp_path, temp_root):
    data = tables()
    reference = import_path(plain_folder(tmp_path / "plain", data))
    run = import_path(site_archive(tmp_path / "site.7z", data), network="dev")

    expected, got = store("stackexchange"), store("dev")
    assert run.status == SyncStatus.SUCCEEDED
    assert {kind for _key, kind, *_ in expected.interactions} == {"reply", "comment", "like"}
    assert any(tags for *_, tags in expected.posts)
    assert got == expected
    assert (run.read_count, run.inserted_count) == (reference.read_count, reference.inserted_count)
    assert run.inserted_count == len(got.interactions)
    assert list(temp_root.iterdir()) == []


@pytest.mark.django_db
def test_second_import_of_a_site_archive_inserts_nothing(tmp_path, temp_root):
    archive = site_archive(tmp_path / "site.7z", tables())
    first = import_path(archive)
    after_first = store("stackexchange")
    second = import_path(archive)

    assert first.inserted_count > 0
    assert second.status == SyncStatus.SUCCEEDED
    assert second.read_count == first.read_count
    assert second.inserted_count == 0
    assert store("stackexchange") == after_first


@pytest.mark.parametrize(
    "layout",
    [
        pytest.param(lambda d, data: site_archive(d / "site.7z", data), id="site-archive"),
        pytest.param(lambda d, data: table_archives(d / "tables", data), id="Posts.7z"),
        pytest.param(
            lambda d, data: table_archives(d / "so", data, prefix="stackoverflow.com-"),
            id="stackoverflow.com-Posts.7z",
        ),
        pytest.param(lambda d, data: mixed_folder(d / "mixed", data), id="mixed-folder"),
    ],
)
def test_every_7z_layout_parses_to_the_same_records_as_plain_xml(tmp_path, temp_root, layout):
    data = tables()
    expected = parsed(plain_folder(tmp_path / "plain", data))

    got = parsed(layout(tmp_path, data))

    assert {type(item) for item in expected} == {AccountRecord, PostRecord, InteractionRecord}
    assert got == expected
    assert list(temp_root.iterdir()) == []


@pytest.mark.parametrize(
    "filters",
    [
        pytest.param([{"id": py7zr.FILTER_LZMA}], id="LZMA"),
        pytest.param([{"id": py7zr.FILTER_PPMD}], id="PPMd"),
        pytest.param([{"id": py7zr.FILTER_BZIP2}], id="BZip2"),
        pytest.param([{"id": py7zr.FILTER_DEFLATE}], id="Deflate"),
        pytest.param([{"id": py7zr.FILTER_COPY}], id="stored"),
    ],
)
def test_site_archives_compressed_by_other_7z_methods_parse_the_same(tmp_path, filters):
    data = tables({"Users": 100, "Posts": 100, "Comments": 100, "Votes": 500})
    expected = parsed(plain_folder(tmp_path / "plain", data))

    assert parsed(site_archive(tmp_path / "site.7z", data, filters=filters)) == expected


def test_a_site_archive_without_the_optional_tables_reads_its_posts(tmp_path):
    data = tables({"Posts": 300})
    expected = parsed(plain_folder(tmp_path / "plain", data))

    got = parsed(site_archive(tmp_path / "site.7z", data))

    assert any(isinstance(item, PostRecord) for item in got)
    assert got == expected


@pytest.mark.django_db
def test_import_dataset_command_reads_a_site_archive(tmp_path, temp_root):
    archive = site_archive(tmp_path / "site.7z", tables())
    out = StringIO()

    call_command("import_dataset", "stackexchange", str(archive), "--no-progress", stdout=out)

    run = SyncRun.objects.get()
    assert run.status == SyncStatus.SUCCEEDED
    assert run.inserted_count == Interaction.objects.count() > 0
    assert f"inserted {run.inserted_count:,}" in out.getvalue()


@pytest.mark.django_db
def test_an_import_stopped_early_by_limit_removes_the_extracted_tables(tmp_path, temp_root):
    run = import_path(site_archive(tmp_path / "site.7z", tables()), limit=5)

    assert run.status == SyncStatus.SUCCEEDED
    assert run.read_count == 5
    assert list(temp_root.iterdir()) == []


# --- progress ---------------------------------------------------------------------------------


def fractions_at_each_table(path: Path) -> tuple[list[float], dict[str, float]]:
    """Progress after each item, and where it stood when the first item of a table appeared."""
    importer = make_importer("stackexchange", path)
    seen: list[float] = []
    first: dict[str, float] = {}
    for item in importer.parse():
        fraction = importer.progress.fraction()
        table = (
            "Users"
            if isinstance(item, AccountRecord)
            else "Posts"
            if isinstance(item, PostRecord)
            else item.source_key.split(":")[0]
            if isinstance(item, InteractionRecord)
            else "bad"
        )
        first.setdefault(table, fraction)
        seen.append(fraction)
    seen.append(importer.progress.fraction())
    return seen, first


@pytest.mark.parametrize("layout", ["site-archive", "plain-folder"])
def test_progress_grows_with_the_tables_read_and_ends_at_one(tmp_path, layout):
    data = tables()
    path = (
        site_archive(tmp_path / "site.7z", data)
        if layout == "site-archive"
        else plain_folder(tmp_path / "plain", data)
    )
    sizes = {name: len(data[name]) for name in TABLES}
    total = sum(sizes.values())

    seen, first = fractions_at_each_table(path)

    assert all(a <= b for a, b in itertools.pairwise(seen))
    assert seen[0] < sizes["Users"] / total
    # When the first post is read, all of Users is counted (and no more than Users and Posts).
    assert sizes["Users"] / total <= first["Posts"] <= (sizes["Users"] + sizes["Posts"]) / total
    assert first["comment"] >= (sizes["Users"] + sizes["Posts"]) / total
    assert seen[-1] == pytest.approx(1.0)


# --- errors: one line, no traceback, nothing left behind ----------------------------------------


def one_line_error(path: Path) -> str:
    with pytest.raises(ImportFormatError) as caught:
        make_importer("stackexchange", path)
    message = str(caught.value)
    assert "\n" not in message
    return message


def archive_bytes() -> bytes:
    data = tables({"Users": 40, "Posts": 40, "Comments": 40, "Votes": 200})
    with tempfile.TemporaryDirectory() as folder:
        return site_archive(Path(folder) / "site.7z", data).read_bytes()


def test_a_truncated_site_archive_is_one_clear_error(tmp_path):
    whole = archive_bytes()
    for keep in (len(whole) // 2, len(whole) - 10, 40):
        path = tmp_path / f"cut-{keep}.7z"
        path.write_bytes(whole[:keep])

        assert "corrupt or truncated 7z archive" in one_line_error(path)


@pytest.mark.django_db
def test_a_corrupt_stream_in_a_site_archive_fails_the_import_with_one_line(tmp_path, temp_root):
    whole = bytearray(archive_bytes())
    whole[200:264] = bytes(b ^ 0xFF for b in whole[200:264])  # inside the packed data
    path = tmp_path / "corrupt.7z"
    path.write_bytes(whole)
    run = start_import(format="stackexchange", path=str(path))  # the listing is intact

    with pytest.raises(ImportFormatError, match="corrupt or truncated 7z archive") as caught:
        run_import(sync_run_id=run.pk)

    run.refresh_from_db()
    assert "\n" not in str(caught.value)
    assert run.status == SyncStatus.FAILED
    assert run.errors[0] == str(caught.value)
    assert list(temp_root.iterdir()) == []


@pytest.mark.django_db
def test_a_corrupt_site_archive_is_a_command_error_not_a_traceback(tmp_path):
    whole = bytearray(archive_bytes())
    whole[200:264] = bytes(b ^ 0xFF for b in whole[200:264])
    path = tmp_path / "corrupt.7z"
    path.write_bytes(whole)

    with pytest.raises(CommandError, match=r"corrupt\.7z: corrupt or truncated 7z archive"):
        call_command("import_dataset", "stackexchange", str(path), "--no-progress")


def test_a_site_archive_without_posts_xml_is_one_clear_error(tmp_path):
    data = tables({"Users": 40, "Comments": 40, "Votes": 40})
    path = site_archive(tmp_path / "no-posts.7z", data)

    assert "no Posts.xml at the 7z archive's root" in one_line_error(path)


def test_posts_xml_below_the_archive_root_is_not_taken_for_the_table(tmp_path):
    path = write_7z(tmp_path / "nested.7z", {"site/Posts.xml": tables({"Posts": 40})["Posts"]})

    assert "no Posts.xml at the 7z archive's root" in one_line_error(path)


@pytest.mark.parametrize("header_encryption", [False, True], ids=["content", "content+names"])
def test_a_password_protected_site_archive_is_one_clear_error(tmp_path, header_encryption):
    path = site_archive(
        tmp_path / "locked.7z",
        tables({"Users": 40, "Posts": 40}),
        password="secret",
        header_encryption=header_encryption,
    )

    assert "password-protected" in one_line_error(path)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"<?xml version='1.0'?>\n<posts>\n</posts>\n", id="text"),
        pytest.param(lzma.compress(b"<posts>\n</posts>\n"), id="xz"),
        pytest.param(b"", id="empty"),
        pytest.param(b"7z", id="two-bytes"),
    ],
)
def test_a_7z_file_that_is_not_7z_is_one_clear_error(tmp_path, content):
    path = tmp_path / "site.7z"
    path.write_bytes(content)

    assert "not a 7z archive" in one_line_error(path)


def test_a_plain_table_given_as_path_is_not_taken_for_an_archive(tmp_path):
    path = tmp_path / "Posts.xml.xz"
    path.write_bytes(lzma.compress(tables({"Posts": 40})["Posts"]))

    assert "not a 7z archive (give a site's .7z archive, or the folder" in one_line_error(path)


def test_a_missing_path_is_one_clear_error(tmp_path):
    assert "no such file or folder" in one_line_error(tmp_path / "gone.7z")


def test_a_per_table_7z_that_is_not_7z_is_one_clear_error(tmp_path):
    folder = plain_folder(tmp_path / "dump", tables({"Users": 40}))
    (folder / "Posts.7z").write_bytes(lzma.compress(tables({"Posts": 40})["Posts"]))

    assert "Posts.7z: not a 7z archive" in one_line_error(folder)


def test_a_per_table_7z_without_its_table_is_one_clear_error(tmp_path):
    data = tables({"Users": 40, "Posts": 40})
    folder = tmp_path / "dump"
    folder.mkdir()
    write_7z(folder / "Posts.7z", {"Posts.xml": data["Posts"]})
    write_7z(folder / "Users.7z", {"Posts.xml": data["Posts"]})

    assert "Users.7z: no Users.xml" in one_line_error(folder)


def test_a_folder_holding_only_a_site_archive_says_to_give_the_archive(tmp_path):
    folder = tmp_path / "download"
    folder.mkdir()
    site_archive(folder / "quantumcomputing.stackexchange.com.7z", tables({"Posts": 40}))

    message = one_line_error(folder)

    assert "no Posts.xml" in message
    assert "quantumcomputing.stackexchange.com.7z" in message


def test_two_sites_per_table_archives_in_one_folder_is_one_clear_error(tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    posts = tables({"Posts": 40})["Posts"]
    write_7z(folder / "a.stackexchange.com-Posts.7z", {"Posts.xml": posts})
    write_7z(folder / "b.stackexchange.com-Posts.7z", {"Posts.xml": posts})

    assert "several Posts archives" in one_line_error(folder)


# --- room to extract ----------------------------------------------------------------------------


class FakeUsage(NamedTuple):
    total: int
    used: int
    free: int


def room_for(monkeypatch: pytest.MonkeyPatch, free: int) -> None:
    monkeypatch.setattr(shutil, "disk_usage", lambda _path: FakeUsage(free, 0, free))


def test_a_site_archive_too_big_for_the_temp_folder_is_refused_before_extracting(
    tmp_path, temp_root, monkeypatch
):
    data = tables()
    path = site_archive(tmp_path / "site.7z", data)
    need = sum(len(data[name]) for name in TABLES)  # Badges and Tags are not extracted
    room_for(monkeypatch, need - 1)

    message = one_line_error(path)

    assert "needs" in message
    assert str(temp_root) in message
    assert list(temp_root.iterdir()) == []


def test_exactly_enough_room_is_enough(tmp_path, temp_root, monkeypatch):
    data = tables()
    path = site_archive(tmp_path / "site.7z", data)
    room_for(monkeypatch, sum(len(data[name]) for name in TABLES))

    assert parsed(path) == parsed(plain_folder(tmp_path / "plain", data))


@pytest.mark.django_db
def test_room_is_checked_again_when_the_import_runs(tmp_path, temp_root, monkeypatch):
    path = site_archive(tmp_path / "site.7z", tables())
    run = start_import(format="stackexchange", path=str(path))
    room_for(monkeypatch, 1000)

    with pytest.raises(ImportFormatError, match=r"needs .* which has 1\.0 KB free"):
        run_import(sync_run_id=run.pk)

    run.refresh_from_db()
    assert run.status == SyncStatus.FAILED
    assert list(temp_root.iterdir()) == []


# --- the temporary folder goes, whatever happens ------------------------------------------------


def test_an_interrupt_while_reading_removes_the_extracted_tables(tmp_path, temp_root):
    importer = make_importer("stackexchange", site_archive(tmp_path / "s.7z", tables()))
    items = importer.parse()
    assert isinstance(items, Generator)
    next(items)
    extracted = [p.name for p in temp_root.rglob("*.xml")]

    with pytest.raises(KeyboardInterrupt):
        items.throw(KeyboardInterrupt)

    assert sorted(extracted) == sorted(f"{name}.xml" for name in TABLES)
    assert list(temp_root.iterdir()) == []


def test_an_interrupt_during_extraction_removes_what_was_extracted(
    tmp_path, temp_root, monkeypatch
):
    real_extract = py7zr.SevenZipFile.extract
    written: list[str] = []

    def extract_then_interrupt(self: py7zr.SevenZipFile, *args: Any, **kwargs: Any) -> None:
        real_extract(self, *args, **kwargs)
        written.extend(p.name for p in temp_root.rglob("*.xml"))
        raise KeyboardInterrupt

    monkeypatch.setattr(py7zr.SevenZipFile, "extract", extract_then_interrupt)
    importer = make_importer("stackexchange", site_archive(tmp_path / "s.7z", tables()))

    with pytest.raises(KeyboardInterrupt):
        next(importer.parse())

    assert written
    assert list(temp_root.iterdir()) == []


def test_each_table_is_removed_once_read(tmp_path, temp_root):
    importer = make_importer("stackexchange", site_archive(tmp_path / "s.7z", tables()))
    left_when_posts_start: list[str] = []
    for item in importer.parse():
        if isinstance(item, PostRecord) and not left_when_posts_start:
            left_when_posts_start = sorted(p.name for p in temp_root.rglob("*.xml"))

    assert left_when_posts_start == ["Comments.xml", "Posts.xml", "Votes.xml"]


# --- damaged archives, whatever the damage ------------------------------------------------------


@functools.cache
def small_archive_and_records() -> tuple[bytes, list[Item]]:
    data = tables({"Users": 40, "Posts": 40, "Comments": 40, "Votes": 200})
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        expected = parsed(plain_folder(root / "plain", data))
        return site_archive(root / "site.7z", data).read_bytes(), expected


@hypothesis.settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_damaged_site_archive_parses_as_the_original_or_fails_with_one_line(
    tmp_path, temp_root, data
):
    whole, expected = small_archive_and_records()
    damaged = bytearray(whole)
    if data.draw(st.booleans(), label="truncate"):
        damaged = damaged[: data.draw(st.integers(0, len(whole) - 1), label="keep")]
    else:
        # the signature header, the packed streams or the header at the end
        header = max(32, len(whole) - 128)
        at = data.draw(
            st.one_of(
                st.integers(0, 31), st.integers(32, header), st.integers(header, len(whole) - 1)
            ),
            label="byte",
        )
        damaged[at] ^= data.draw(st.integers(1, 255), label="xor")
    path = tmp_path / "damaged.7z"
    path.write_bytes(damaged)

    outcome: list[Item] | str
    try:
        outcome = list(make_importer("stackexchange", path).parse())
    except ImportFormatError as exc:
        outcome = str(exc)

    hypothesis.event("refused" if isinstance(outcome, str) else "same records")
    if isinstance(outcome, str):
        assert "\n" not in outcome
        assert str(path) in outcome
    else:
        assert outcome == expected  # damage where no checksum looks (timestamps, padding)
    assert list(temp_root.iterdir()) == []
