"""Every write path stores the same rows (issue 13 item 3, STYLE rule 13).

The same inputs — a Higgs slice with repeated lines and a month boundary, a Stack Exchange folder
and a Mastodon outbox with posts — are imported through every write path the database has:
SQLite's merge; on PostgreSQL a bulk load into months the store does not hold (columnar blocks
with the helper connection, and the record path), a merge into months that already hold rows,
and `--strict` (one transaction). Each must store exactly the accounts, posts and interactions
the parsers read, with the same counts; `--strict` succeeds here, it does not only abort.
"""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
import json
import lzma
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection

import networks.importers.higgs as higgs
from networks.helper import Helper
from networks.importers import make_importer
from networks.importers.higgs import HiggsImporter
from networks.models import Interaction, NetworkAccount, Post, SyncRun
from networks.partitions import BulkLoad, month_of
from networks.records import AccountRecord, InteractionRecord, PostRecord
from networks.services import run_import, start_import
from tests.factories.scoring import react
from tests.networks.conftest import higgs_file

# transaction=True: outside a test transaction, as in production, so the helper connection works
pytestmark = pytest.mark.django_db(transaction=True)
SE_ROWS = 400
BATCH = 700  # several batches per file, so ids are resolved across batches
Snapshot = dict[str, Any]


# --- the inputs ---------------------------------------------------------------------------------
def higgs_input(folder: Path) -> Path:
    """2,000 real Higgs lines (July 2012), some lines repeated, and a stretch in June."""
    with gzip.open(higgs_file(), "rt") as src:
        lines = list(itertools.islice(src, 2000))
    june = int(dt.datetime(2012, 6, 30, 23, 59, tzinfo=dt.UTC).timestamp())
    boundary = [f"{a} {b} {june + s} RT\n" for a, b, s in [(1, 2, 0), (2, 3, 30), (3, 1, 59)]]
    repeated = [lines[5], lines[5], lines[700], lines[1999]]
    path = folder / "higgs.txt.gz"
    with gzip.open(path, "wt") as dst:
        dst.writelines(boundary + lines[:1000] + repeated + lines[1000:] + repeated[:2])
    return path


def stackexchange_input(folder: Path) -> Path:
    """The first rows of each table of the real Quantum Computing dump, as plain XML."""
    target = folder / "stackexchange"
    target.mkdir()
    source = settings.SHARED_DATA_DIR / "stackexchange-quantumcomputing"
    for table in ("Users", "Posts", "Comments", "Votes"):
        with lzma.open(source / f"{table}.xml.xz", "rt", encoding="utf-8-sig") as src:
            head = list(itertools.islice(src, 2 + SE_ROWS))
        (target / f"{table}.xml").write_text("".join(head) + f"</{table.lower()}>\n")
    return target


def mastodon_input(folder: Path) -> Path:
    """An outbox with notes (hashtags), replies, mentions and boosts across a month boundary."""
    me, bob, carol = (
        f"https://{h}.example/users/{n}" for h, n in [("m", "me"), ("o", "bob"), ("t", "carol")]
    )
    items: list[dict[str, Any]] = []
    for n in range(1, 41):
        when = (
            dt.datetime(2023, 5, 31, 20, tzinfo=dt.UTC) + dt.timedelta(minutes=17 * n)
        ).isoformat()
        status = f"{me}/statuses/{n}"
        if n % 5 == 0:
            items.append(
                {
                    "id": f"{status}/activity",
                    "type": "Announce",
                    "actor": me,
                    "published": when,
                    "object": f"{carol}/statuses/{n}",
                }
            )
            continue
        note: dict[str, Any] = {
            "id": status,
            "type": "Note",
            "published": when,
            "attributedTo": me,
            "content": f"<p>note {n} \t “q” \\</p>",
            "tag": [{"type": "Hashtag", "name": f"#t{n % 3}"}],
        }
        if n % 3 == 0:
            note["inReplyTo"] = f"{bob}/statuses/{n}"
        if n % 4 == 0:
            note["tag"].append({"type": "Mention", "href": carol, "name": "@carol@t.example"})
        items.append(
            {
                "id": f"{status}/activity",
                "type": "Create",
                "actor": me,
                "published": when,
                "object": note,
            }
        )
    path = folder / "outbox.json"
    path.write_text(
        json.dumps(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "type": "OrderedCollection",
                "orderedItems": items,
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("equivalence")
    return [
        ("higgs", higgs_input(folder)),
        ("stackexchange", stackexchange_input(folder)),
        ("mastodon", mastodon_input(folder)),
    ]


# --- what the parsers read, and what the store holds --------------------------------------------
def expected(inputs: list[tuple[str, Path]]) -> tuple[set[tuple[Any, ...]], dict[str, int]]:
    """Interactions as read (first of each source key), and how many each file read."""
    rows: dict[tuple[str, str], tuple[Any, ...]] = {}
    read: dict[str, int] = {}
    for format, path in inputs:
        importer = make_importer(format, path)
        network = importer.options.network
        read[format] = 0
        for item in importer.parse():
            if isinstance(item, InteractionRecord):
                read[format] += 1
                row = (
                    network,
                    item.actor,
                    item.receiver,
                    item.kind,
                    item.occurred_at,
                    item.source_key,
                    item.post,
                )
                rows.setdefault((network, item.source_key), row)
    return set(rows.values()), read


def named_accounts(inputs: list[tuple[str, Path]]) -> set[tuple[str, str]]:
    names: set[tuple[str, str]] = set()
    for format, path in inputs:
        importer = make_importer(format, path)
        network = importer.options.network
        for item in importer.parse():
            if isinstance(item, InteractionRecord):
                names |= {(network, item.actor), (network, item.receiver)}
            elif isinstance(item, PostRecord):
                names.add((network, item.account))
            elif isinstance(item, AccountRecord):
                names.add((network, item.external_id))
    return names


def posts_read(inputs: list[tuple[str, Path]]) -> set[tuple[str, str, int]]:
    """(network, post id, anonymous reactions) of every post the parsers read."""
    read: set[tuple[str, str, int]] = set()
    for format, path in inputs:
        importer = make_importer(format, path)
        network = importer.options.network
        read |= {
            (network, item.external_id, item.anonymous_reactions)
            for item in importer.parse()
            if isinstance(item, PostRecord)
        }
    return read


def snapshot() -> Snapshot:
    """Everything the imports stored, by external ids (row ids differ between paths)."""
    accounts = NetworkAccount.objects.exclude(external_id__startswith="seed-")
    interactions = Interaction.objects.exclude(actor__external_id__startswith="seed-")
    posts = Post.objects.values_list(
        "network",
        "external_id",
        "account__external_id",
        "posted_at",
        "text",
        "kind",
        "tags",
        "anonymous_reactions",
    )
    return {
        "accounts": sorted(
            accounts.values_list("network", "external_id", "handle", "display_name", "protected")
        ),
        "posts": sorted(posts, key=repr),
        "interactions": set(
            interactions.values_list(
                "network",
                "actor__external_id",
                "receiver__external_id",
                "kind",
                "occurred_at",
                "source_key",
                "post__external_id",
            )
        ),
    }


def counts(runs: list[SyncRun]) -> list[tuple[int, int, int, int]]:
    return [(r.read_count, r.inserted_count, r.skipped_count, r.rejected_count) for r in runs]


def import_all(
    inputs: list[tuple[str, Path]], *, strict: bool = False, columnar: bool = True
) -> list[SyncRun]:
    runs = []
    with mock.patch.object(HiggsImporter, "columnar", columnar):
        for format, path in inputs:
            run = start_import(format=format, path=str(path), strict=strict)
            runs.append(run_import(sync_run_id=run.pk, batch_size=BATCH))
    return runs


def forget_store() -> None:
    Interaction.objects.all().delete()
    Post.objects.all().delete()
    NetworkAccount.objects.all().delete()


def hold_every_month(stored: Snapshot) -> None:
    """One unrelated interaction in each month the inputs touch: they then merge, not load."""
    months = sorted({month_of(row[4]) for row in stored["interactions"]})
    a, b = (NetworkAccount.objects.create(network="dev", external_id=f"seed-{n}") for n in "ab")
    for month in months:
        react([(a, b)], at=dt.datetime.combine(month, dt.time(1), tzinfo=dt.UTC))


class Routes:
    """Which way the rows went: load tables or merges (`BulkLoad.table_for`'s answers), columnar
    blocks read, helper connections opened."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tables: list[str | None] = []
        self.blocks = self.helpers = 0
        real_table_for, real_block, real_helper = BulkLoad.table_for, higgs._block, Helper.__init__

        def table_for(load: BulkLoad, cursor: Any, month: dt.date) -> str | None:
            self.tables.append(real_table_for(load, cursor, month))
            return self.tables[-1]

        def block(*args: Any) -> Any:
            got = real_block(*args)
            self.blocks += got is not None
            return got

        def helper(this: Helper) -> None:
            self.helpers += 1
            real_helper(this)

        monkeypatch.setattr(BulkLoad, "table_for", table_for)
        monkeypatch.setattr(higgs, "_block", block)
        monkeypatch.setattr(Helper, "__init__", helper)

    def take(self) -> tuple[str, int, int]:
        """(load / merge / both / none, blocks, helpers) since the last look."""
        loaded, merged = any(self.tables), None in self.tables
        way = {(True, False): "load", (False, True): "merge", (True, True): "both"}
        seen = (way.get((loaded, merged), "none"), self.blocks, self.helpers)
        self.tables, self.blocks, self.helpers = [], 0, 0
        return seen


# --- the test -----------------------------------------------------------------------------------
def test_every_write_path_stores_the_same_rows(inputs, monkeypatch):
    want, read = expected(inputs)
    assert len({row[4].month for row in want if row[0] == "higgs"}) == 2, "a month boundary"
    assert any(row[6] for row in want), "interactions that link posts"
    routes = Routes(monkeypatch)
    if connection.vendor == "postgresql":
        paths: dict[str, dict[str, bool]] = {
            "bulk load, columnar, helper": {},
            "bulk load, records": {"columnar": False},
            "merge into held months": {"hold": True},
            "--strict": {"strict": True},
        }
    else:
        paths = {"SQLite merge": {}, "--strict": {"strict": True}}

    stored: dict[str, Snapshot] = {}
    ran: dict[str, list[tuple[int, int, int, int]]] = {}
    went: dict[str, tuple[str, int, int]] = {}
    for name, how in paths.items():
        forget_store()
        if how.get("hold"):
            hold_every_month(stored[next(iter(stored))])
        runs = import_all(
            inputs, strict=how.get("strict", False), columnar=how.get("columnar", True)
        )
        stored[name], ran[name], went[name] = snapshot(), counts(runs), routes.take()

    if connection.vendor == "postgresql":
        way, blocks, helpers = went["bulk load, columnar, helper"]
        assert (way, helpers) == ("load", len(inputs))
        assert blocks > 0
        assert went["bulk load, records"][:2] == ("load", 0)
        assert went["merge into held months"][0] == "merge"
        assert went["--strict"][2] == 0, "no helper inside one transaction"
    else:
        assert all(way == ("none", 0, 0) for way in went.values())
    reference = stored[next(iter(stored))]
    assert reference["interactions"] == want
    assert {(n, e) for n, e, *_ in reference["accounts"]} == named_accounts(inputs)
    assert reference["posts"]
    assert any(row[7] for row in reference["posts"]), "posts with up-votes (anonymous reactions)"
    assert {(n, e, v) for n, e, *_, v in reference["posts"]} == posts_read(inputs)
    for name in paths:
        assert stored[name] == reference, name
        assert ran[name] == ran[next(iter(ran))], name
    for (format, _), (got_read, inserted, skipped, rejected) in zip(
        inputs, ran[next(iter(ran))], strict=True
    ):
        assert (got_read, rejected) == (read[format], 0)
        assert inserted + skipped == got_read
    assert sum(inserted for _, inserted, _, _ in ran[next(iter(ran))]) == len(want)
