"""Campaign images: an upload is hostile until Pillow decoded it; we store our own re-encoding."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4096 * 4096  # refuse decompression bombs before decoding them
MAX_SIDE = 1200  # stored images are at most this wide or tall
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}


class BadImage(ValueError):
    """The upload is not an image we accept; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class StoredImage:
    data: bytes
    content_type: str


def reencode_image(data: bytes) -> StoredImage:
    """Check an uploaded image's size and type, and return it re-encoded (metadata dropped)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadImage(f"The image is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            width, height = probe.size
            if kind not in ALLOWED_FORMATS:
                raise BadImage("Upload a JPEG, PNG, WebP or GIF image.")
            if width * height > MAX_PIXELS:
                raise BadImage("The image has too many pixels (at most 4096 by 4096).")
            probe.load()
            image = probe.convert("RGBA" if probe.mode in {"RGBA", "LA", "P"} else "RGB")
    except BadImage:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise BadImage("That file is not an image we can read.") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    if image.mode == "RGBA":
        image.save(out, format="PNG", optimize=True)
        return StoredImage(out.getvalue(), "image/png")
    image.save(out, format="JPEG", quality=85, optimize=True)
    return StoredImage(out.getvalue(), "image/jpeg")
