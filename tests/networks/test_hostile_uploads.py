"""Uploads parsed as hostile (issue 12, item 14): the body is capped before it is stored, JSON is
parsed in linear time, and nesting or size problems are the same clear format error."""

from __future__ import annotations

import contextlib
import io
import json
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.urls import reverse

from networks.importers.base import MAX_ITEM_EVENTS, ImportFormatError, iter_json_array
from networks.models import SyncRun, SyncStatus
from tests.factories.networks import NetworkAccountFactory

ALICE = "https://mastodon.example/users/alice"


def outbox(items: str) -> bytes:
    return ('{"type": "OrderedCollection", "orderedItems": [' + items + "]}").encode()


@pytest.fixture
def stored_bytes(monkeypatch: pytest.MonkeyPatch, settings) -> list[int]:
    """Every byte that reaches the handler writing uploads to disk."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every file goes to a temporary file
    seen: list[int] = []
    original = TemporaryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data: bytes, start: int):
        seen.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counting)
    return seen


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cap", "size"),
    [(1024, 200_000), (50_000, 60_000)],
    ids=["declared-length-over-cap", "streamed-past-cap"],
)
def test_an_upload_over_the_cap_is_refused_before_it_is_stored(
    alice, alice_client, settings, stored_bytes: list[int], cap: int, size: int
) -> None:
    settings.KLOUT_UPLOAD_MAX_BYTES = cap
    NetworkAccountFactory.create(network="mastodon", external_id=ALICE, user=alice)
    body = outbox(" " * size)

    response = alice_client.post(
        reverse("import_archive"),
        {"format": "mastodon", "file": SimpleUploadedFile("outbox.json", body)},
    )

    assert response.status_code == 200
    assert "The file is larger than" in response.content.decode()
    assert sum(stored_bytes) <= cap
    assert not SyncRun.objects.exists()


@pytest.mark.django_db
def test_an_upload_within_the_cap_still_needs_the_csrf_token(alice, settings) -> None:
    from django.test import Client

    NetworkAccountFactory.create(network="mastodon", external_id=ALICE, user=alice)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(
        reverse("import_archive"),
        {"format": "mastodon", "file": SimpleUploadedFile("outbox.json", outbox(""))},
    )
    assert response.status_code == 403
    assert not SyncRun.objects.exists()


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("items", "message"),
    [
        (nested(100_000), "nested too deeply"),
        ('{"actor": "x", "tag": [' + ",".join(["1"] * (MAX_ITEM_EVENTS + 5)) + "]}", "too large"),
        ('{"actor": "x"', "ends early or is malformed"),
    ],
    ids=["deep-nesting", "huge-item", "truncated"],
)
def test_hostile_json_is_a_clear_format_error_not_a_crash(
    alice, alice_client, django_capture_on_commit_callbacks, items: str, message: str
) -> None:
    NetworkAccountFactory.create(network="mastodon", external_id=ALICE, user=alice)
    upload = SimpleUploadedFile("outbox.json", outbox(items))

    # Eager tasks re-raise the task's error; the run records it.
    with (
        django_capture_on_commit_callbacks(execute=True),
        contextlib.suppress(ImportFormatError),
    ):
        alice_client.post(reverse("import_archive"), {"format": "mastodon", "file": upload})

    run = SyncRun.objects.get()
    assert run.status == SyncStatus.FAILED
    assert message in run.errors[0]
    assert "Error" not in run.errors[0]  # no exception class names (RecursionError, ...)


def test_elements_are_parsed_one_at_a_time_not_the_whole_body_at_once() -> None:
    """Streaming: parsing 32 elements of 1 MB holds about one element, never the 32 MB body.
    (Parse speed, linear in the input, is measured by bench/upload.py.)"""
    one = '{"content": "' + "x" * (1 << 20) + '"}'
    stream = io.BytesIO(outbox(",".join([one] * 32)))
    tracemalloc.start()
    try:
        count = 0
        for item in iter_json_array(stream, key="orderedItems"):
            count += 1
            del item
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 32
    assert peak < 8 << 20, f"parsing held {peak >> 20} MB"


def test_one_huge_element_is_refused_with_a_format_error() -> None:
    """The old parser took 2.2 s for one 16 MB element and minutes for 200 MB (bench/upload.py)."""
    body = outbox('{"content": "' + "x" * (32 << 20) + '"}')
    with pytest.raises(ImportFormatError, match="item 1 is too large"):
        list(iter_json_array(io.BytesIO(body), key="orderedItems"))


def test_a_huge_value_outside_the_array_is_refused_too() -> None:
    body = ('{"type": "OrderedCollection", "summary": "' + "x" * (16 << 20) + '"}').encode()
    with pytest.raises(ImportFormatError, match="outside the array is too large"):
        list(iter_json_array(io.BytesIO(body), key="orderedItems"))


def test_elements_stream_one_at_a_time_with_a_bom_and_a_tweets_js_prefix() -> None:
    body = (
        b"\xef\xbb\xbfwindow.YTD.tweets.part0 = "
        + json.dumps([{"tweet": {"id_str": str(n)}} for n in range(3)]).encode()
    )
    elements = iter_json_array(io.BytesIO(body), skip_to_bracket=True)
    assert [e["tweet"]["id_str"] for e in elements] == ["0", "1", "2"]  # type: ignore[index]
