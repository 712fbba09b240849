"""schemathesis hooks for deploy/fuzz.py (loaded through the `hooks` key of its config).

The image upload's schema names the types it takes (`encoding.file.contentType`); schemathesis
has no images of its own to send as those, so this gives it real ones: small images of random
sizes and colours, encoded by Pillow in each type Quill takes.
"""

import io

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
