"""The personal archive upload form: size and type checked before anything is stored."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict

# What each format's file starts with (after whitespace), and the names it may have.
SIGNATURES = {
    "x_archive": ((b"window.YTD.", b"["), (".js",)),
    "mastodon": ((b"{",), (".json",)),
}


def too_large_message() -> str:
    """The one message for an upload over KLOUT_UPLOAD_MAX_BYTES."""
    limit = settings.KLOUT_UPLOAD_MAX_BYTES
    if limit >= 1024 * 1024:
        return f"The file is larger than {limit // (1024 * 1024)} MB."
    return f"The file is larger than {max(1, limit // 1024)} KB."


class ArchiveUploadForm(forms.Form):
    format = forms.ChoiceField(
        choices=[
            ("x_archive", "X/Twitter archive: data/tweets.js"),
            ("mastodon", "Mastodon export: outbox.json"),
        ]
    )
    file = forms.FileField()

    @classmethod
    def refused(cls, message: str) -> ArchiveUploadForm:
        """A form showing `message` on the file, for an upload refused before it was read."""
        form = cls(data={}, files=MultiValueDict())
        form.full_clean()
        form.errors.clear()
        form.add_error("file", message)
        return form

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        upload: UploadedFile | None = cleaned.get("file")
        format = cleaned.get("format")
        if upload is None or not isinstance(format, str):
            return cleaned
        if upload.size is not None and upload.size > settings.KLOUT_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(too_large_message())
        starts, suffixes = SIGNATURES[format]
        name = (upload.name or "").lower()
        head = upload.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        upload.seek(0)
        if not name.endswith(suffixes) or not head.startswith(starts):
            expected = "tweets.js" if format == "x_archive" else "outbox.json"
            raise forms.ValidationError(f"That does not look like {expected}.")
        return cleaned
