"""The personal archive upload form: size and type checked before anything is stored."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

# What each format's file starts with (after whitespace), and the names it may have.
SIGNATURES = {
    "x_archive": ((b"window.YTD.", b"["), (".js",)),
    "mastodon": ((b"{",), (".json",)),
}


class ArchiveUploadForm(forms.Form):
    format = forms.ChoiceField(
        choices=[
            ("x_archive", "X/Twitter archive: data/tweets.js"),
            ("mastodon", "Mastodon export: outbox.json"),
        ]
    )
    file = forms.FileField()

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        upload: UploadedFile | None = cleaned.get("file")
        format = cleaned.get("format")
        if upload is None or not isinstance(format, str):
            return cleaned
        if upload.size is not None and upload.size > settings.KLOUT_UPLOAD_MAX_BYTES:
            limit = settings.KLOUT_UPLOAD_MAX_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"The file is larger than {limit} MB.")
        starts, suffixes = SIGNATURES[format]
        name = (upload.name or "").lower()
        head = upload.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        upload.seek(0)
        if not name.endswith(suffixes) or not head.startswith(starts):
            expected = "tweets.js" if format == "x_archive" else "outbox.json"
            raise forms.ValidationError(f"That does not look like {expected}.")
        return cleaned
