"""schemathesis hooks for deploy/fuzz.py (loaded through the `hooks` key of its config).

Image fields take only uploads that exist (accounts.uploads.clean_image_url), which no schema
can say: a well-formed /media/ address schemathesis makes up becomes the one deploy/fuzz.py
uploaded first (QUILL_FUZZ_UPLOAD). Malformed ones are left for the server to refuse.

The image upload's schema names the types it takes (`encoding.file.contentType`); schemathesis
has no images of its own to send as those, so this gives it real ones: small images of random
sizes and colours, encoded by Pillow in each type Quill takes.
"""

import io
import os
import re
from typing import Any

import schemathesis
from hypothesis import strategies as st
from PIL import Image

PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}


def _encode(image_format: str, size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=image_format)
    return buffer.getvalue()


_sizes = st.tuples(st.integers(1, 48), st.integers(1, 48))
_colours = st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
for _media_type, _image_format in PILLOW_FORMATS.items():
    schemathesis.openapi.media_type(_media_type, st.builds(_encode, st.just(_image_format), _sizes, _colours))


_UPLOAD = os.environ.get("QUILL_FUZZ_UPLOAD", "")
# accounts.uploads.NAME_PATTERN under MEDIA_URL, as the schemas state it (IMAGE_URL_SCHEMA); a
# test holds the two equal (this process has no Django to import them from).
MEDIA_ADDRESS = re.compile(
    "/media/" + r"(?:uploads|avatars)/[0-9]{4}/[0-9]{2}/[A-Za-z0-9_-]{16,64}\.(?:jpg|png|webp|gif)"
)


def _use_existing_upload(body: Any) -> None:
    """In place: a body is left as schemathesis made it but for these strings (a rebuilt copy
    of, say, a multipart body would lose what made it a negative case)."""
    if not isinstance(body, dict):
        return
    for key, value in body.items():
        if isinstance(value, str) and _UPLOAD and MEDIA_ADDRESS.fullmatch(value):
            body[key] = _UPLOAD
        else:
            _use_existing_upload(value)


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    # map_case, not map_body: it also sees the coverage phase's cases.
    _use_existing_upload(case.body)
    return case
