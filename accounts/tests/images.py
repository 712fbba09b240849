"""Images (good and bad) made in memory for the upload tests."""

import random
from io import BytesIO

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def encode(image: Image.Image, format: str, **options: object) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def upload(data: bytes, name: str = "picture.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def two_colours(size: tuple[int, int] = (40, 20), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: which way up it stands can be told."""
    image = Image.new(mode, size, "red")
    image.paste("blue", (size[0] // 2, 0, size[0], size[1]))
    return image


def jpeg_with_exif() -> bytes:
    """A 40x20 photo whose EXIF says: rotate 90° clockwise to show (orientation 6), with a
    camera make, a GPS position and a comment."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "SecretCam"
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    return encode(two_colours(), "JPEG", exif=exif, comment=b"my home address", quality=95)


def png() -> bytes:
    image = two_colours(mode="RGBA")
    image.putpixel((0, 0), (0, 0, 0, 0))
    return encode(image, "PNG")


def webp() -> bytes:
    return encode(two_colours(), "WEBP", quality=90)


def gif() -> bytes:
    return encode(two_colours().convert("P"), "GIF")


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (30, 20), colour) for colour in ("red", "green", "blue")]
    return encode(
        frames[0],
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=[100, 200, 300],
        loop=0,
        comment=b"secret comment",
    )


def too_long_gif() -> bytes:
    """A small animation of 2,000 x 2,000 pixels with 11 frames: 44 megapixels in all."""
    frames = [Image.new("P", (2000, 2000), index) for index in range(11)]
    for index, frame in enumerate(frames):
        frame.putpixel((index, index), 255)  # each frame differs, so none is merged away
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100)


def noise(size: tuple[int, int], seed: int = 1) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def truncated_jpeg() -> bytes:
    data = encode(noise((200, 200)), "JPEG")
    return data[: len(data) // 2]


def bomb_png(size: tuple[int, int] = (10_000, 10_000)) -> bytes:
    """A PNG of a few KB whose header says 100 megapixels (1-bit, all black)."""
    return encode(Image.new("1", size), "PNG")


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
