"""Photos as they are kept: upright, at most 1600 pixels on their longest side, without
the metadata a phone writes into them (its position among it)."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

LONGEST_SIDE = 1600
MAX_PIXELS = 60_000_000  # a 60-megapixel photo; a larger picture is refused, not decoded
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class Unreadable(ValueError):
    """The bytes say they are an image but cannot be read as one."""


def normalise(content: bytes, media_type: str) -> bytes:
    """``content`` scaled and stripped when it is a still photo; other files unchanged.

    GIFs may move and PDFs are documents: both are kept as sent (their type was checked).
    """
    fmt = _FORMATS.get(media_type)
    if fmt is None:
        return content
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
            if image.format != fmt or image.width * image.height > MAX_PIXELS:
                raise Unreadable(media_type)
            image = ImageOps.exif_transpose(image)  # also drops the orientation tag
            image.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
            return _encode(image, fmt)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombWarning,
            Image.DecompressionBombError) as err:  # fmt: skip
        raise Unreadable(media_type) from err


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    # Pillow passes some of what it read (a colour profile, text) on to what it writes.
    image.info = {k: v for k, v in image.info.items() if k == "transparency"}
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=85)
    else:  # a signature or a screenshot: lossless, palette and transparency kept
        image.save(out, "PNG", optimize=True)
    return out.getvalue()
