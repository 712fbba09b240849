"""Uploaded images: decoded, checked, re-encoded, stored under random names, counted against
each member's quota. Used for avatars now, and for story images and covers.

Every image is decoded by Pillow and written anew, so what is stored is pixels and nothing
else: no EXIF (GPS, camera), no comments or XMP, no trailing bytes of a polyglot; the EXIF
orientation is applied first, so photos stand the right way up. Only JPEG, PNG, WebP and GIF
come in, and each goes out in its own format (an animated GIF stays animated; an animated
PNG or WebP keeps its first frame). The colour profile (ICC) is kept, as it is colour, not
metadata.

Storage goes through Django's storage API (`storages["default"]`): local files under
MEDIA_ROOT, or an S3-compatible bucket (settings, MEDIA_STORAGE_URL).

Refusals: Django's ValidationError on the `file` field (400) for anything that is not such an
image, or is damaged, or has more than QUILL_UPLOAD_MAX_PIXELS pixels (an avatar more than
QUILL_AVATAR_MAX_PIXELS), read from the header before any decoding; TooLarge (413) for a file
over QUILL_UPLOAD_MAX_MB and for one that would pass the member's quota; RateLimited (429)
past QUILL_UPLOAD_RATE uploads of a member. A refused upload stores nothing.

Also the rule for the image addresses members give (an avatar, a cover): clean_image_url.
"""

import re
import secrets
import struct
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import IO, Any
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Sum
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from accounts.models import Upload, User
from accounts.ratelimit import count_attempt
from kernel.exceptions import RateLimited, TooLarge

MiB = 1024 * 1024
# Pillow format name -> (content type, file extension).
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
AVATAR_SIZE = 256
# An animation counts all its frames against the pixel limit, and has at most this many.
MAX_FRAMES = 1000
# What a stored name looks like: the /media/ view serves nothing else.
NAME_PATTERN = r"(?:uploads|avatars)/[0-9]{4}/[0-9]{2}/[A-Za-z0-9_-]{16,64}\.(?:jpg|png|webp|gif)"
AVATARS = "avatars/"

NOT_AN_IMAGE = "Upload a JPEG, PNG, WebP or GIF image."
DAMAGED = "The image is damaged or incomplete: it could not be read."
# What Pillow raises on a file it cannot decode (its decoders' own errors, and struct's).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, Image.DecompressionBombError)


def storage() -> Storage:
    """The media storage (looked up each time, so a change of settings is followed)."""
    return storages["default"]


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


@dataclass(frozen=True)
class PixelBudget:
    """The most pixels an image may have (an animation's frames count together), and what a
    bigger one is told."""

    pixels: int
    refusal: str

    def refuse(self) -> ValidationError:
        return _refuse(self.refusal)


def _image_budget() -> PixelBudget:
    limit = settings.QUILL_UPLOAD_MAX_PIXELS
    return PixelBudget(
        limit,
        f"The image is too large: at most {limit / 1_000_000:g} megapixels "
        "(an animation's frames count together).",
    )


def _avatar_budget() -> PixelBudget:
    # A thumbnail of AVATAR_SIZE pixels needs far fewer, and decoding costs in proportion.
    limit = min(settings.QUILL_AVATAR_MAX_PIXELS, settings.QUILL_UPLOAD_MAX_PIXELS)
    return PixelBudget(
        limit,
        f"The picture is too large for a profile picture: at most {limit / 1_000_000:g} megapixels "
        "(an animation's frames count together). Make it smaller and upload it again.",
    )


@dataclass(frozen=True)
class Encoded:
    """An image re-encoded and ready to store."""

    data: bytes
    image_format: str
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return FORMATS[self.image_format][0]

    @property
    def extension(self) -> str:
        return FORMATS[self.image_format][1]


def _read(file: IO[bytes]) -> bytes:
    limit = settings.QUILL_UPLOAD_MAX_MB * MiB
    size = getattr(file, "size", None)
    if size is not None and size > limit:
        raise TooLarge(f"The image is larger than {settings.QUILL_UPLOAD_MAX_MB} MiB.")
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"The image is larger than {settings.QUILL_UPLOAD_MAX_MB} MiB.")
    return data


def _open(data: bytes, budget: PixelBudget) -> Image.Image:
    """Opens (reads the header of) a JPEG, PNG, WebP or GIF, refusing too many pixels before
    any decoding happens."""
    try:
        # Pillow warns past its own limit (about 89 megapixels) on opening, and refuses past
        # twice that; both are over ours, so both are a refusal here, without noise in the log.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data), formats=list(FORMATS))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise budget.refuse() from None
    except (UnidentifiedImageError, *DECODE_ERRORS):
        raise _refuse(NOT_AN_IMAGE) from None
    if image.format not in FORMATS:  # pragma: no cover (Image.open was told the formats)
        raise _refuse(NOT_AN_IMAGE)
    if image.width * image.height > budget.pixels:
        raise budget.refuse()
    return image


def _clean(frame: Image.Image, *, keep: tuple[str, ...] = ("transparency",)) -> Image.Image:
    """A copy of the frame's pixels with none of the file's metadata but what `keep` names."""
    copy = frame.copy()
    copy.info = {key: value for key, value in frame.info.items() if key in keep}
    return copy


def _save(image: Image.Image, image_format: str, **options: Any) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _encode_still(image: Image.Image, image_format: str, *, lossless: bool = False) -> bytes:
    """The first frame, turned upright, written anew in `image_format` with its colour profile only."""
    icc_profile = image.info.get("icc_profile")
    try:
        upright = ImageOps.exif_transpose(image)
    except (*DECODE_ERRORS, KeyError, TypeError):  # a malformed EXIF block: keep the pixels as they are
        upright = image
    picture = _clean(upright)
    converted = False
    if image_format == "JPEG" and picture.mode not in ("L", "RGB"):
        picture, converted = picture.convert("RGB"), True
    elif image_format == "WEBP" and picture.mode not in ("RGB", "RGBA"):
        has_alpha = "A" in picture.getbands() or "transparency" in picture.info
        picture, converted = picture.convert("RGBA" if has_alpha else "RGB"), True
    elif image_format == "PNG" and picture.mode not in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"):
        picture, converted = picture.convert("RGBA"), True
    options: dict[str, Any] = {}
    if icc_profile and not converted:  # a profile describes the original colour space only
        options["icc_profile"] = icc_profile
    if image_format == "JPEG":
        options.update(quality=90, optimize=True)
    elif image_format == "WEBP":
        options.update({"lossless": True} if lossless else {"quality": 90})
    return _save(picture, image_format, **options)


def _encode_gif(image: Image.Image, budget: PixelBudget) -> bytes:
    """Every frame of a GIF, written anew with its timing and nothing else."""
    frames: list[Image.Image] = []
    durations: list[int] = []
    for index, frame in enumerate(ImageSequence.Iterator(image)):
        if index >= MAX_FRAMES:
            raise _refuse(f"The animation has more than {MAX_FRAMES} frames.")
        if (index + 1) * image.width * image.height > budget.pixels:
            raise budget.refuse()
        frames.append(_clean(frame))
        durations.append(int(frame.info.get("duration", 0)))
    options: dict[str, Any] = {}
    if len(frames) > 1:
        options.update(save_all=True, append_images=frames[1:], duration=durations)
        if "loop" in image.info:
            options["loop"] = image.info["loop"]
    return _save(frames[0], "GIF", **options)


def _decode(file: IO[bytes], budget: PixelBudget) -> Encoded:
    """The upload, checked and re-encoded."""
    data = _read(file)
    image = _open(data, budget)
    try:
        image.load()  # the first frame: a damaged or truncated file fails here
        if image.format == "GIF":
            encoded = _encode_gif(image, budget)
        else:
            # A lossless WebP (its first chunk is VP8L) stays lossless.
            lossless = image.format == "WEBP" and data[12:16] == b"VP8L"
            encoded = _encode_still(image, str(image.format), lossless=lossless)
    except Image.DecompressionBombError:
        raise budget.refuse() from None
    except DECODE_ERRORS:
        raise _refuse(DAMAGED) from None
    width, height = Image.open(BytesIO(encoded)).size
    return Encoded(encoded, str(image.format), width, height)


def _thumbnail(image: Encoded) -> Encoded:
    """A square, centre-cropped, still picture of AVATAR_SIZE pixels, made from the re-encoded
    image (upright and clean already; a GIF's thumbnail is a PNG)."""
    picture: Image.Image = Image.open(BytesIO(image.data))
    if picture.mode not in ("L", "RGB", "RGBA"):
        picture = picture.convert("RGBA")
    square = ImageOps.fit(picture, (AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
    target = "PNG" if image.image_format == "GIF" else image.image_format
    return Encoded(_encode_still(square, target), target, AVATAR_SIZE, AVATAR_SIZE)


def _name(folder: str, extension: str) -> str:
    """A random name that says nothing of the file it was: folder/<year>/<month>/<token>.ext"""
    now = timezone.now()
    return f"{folder}/{now:%Y}/{now:%m}/{secrets.token_urlsafe(16)}.{extension}"


def _used_bytes(owner: User, *, excluding: list[int] | None = None) -> int:
    uploads = Upload.objects.filter(owner=owner).exclude(pk__in=excluding or [])
    return int(uploads.aggregate(total=Sum("size"))["total"] or 0)


def _store(
    *,
    owner: User,
    items: list[tuple[str, Encoded]],
    replacing: Callable[[], list[Upload]] | None = None,
    then: Callable[[list[Upload]], None] | None = None,
) -> list[Upload]:
    """Stores the encoded images under the given names and records them, within the owner's
    quota, in one transaction. `replacing` picks (inside it) uploads to delete: they do not
    count against the quota, and their files go once it commits. `then` runs inside it too,
    with the new uploads. If anything fails, the files just stored are deleted again."""
    saved: list[str] = []
    media = storage()
    try:
        with transaction.atomic():
            # One upload at a time per member, so two at once cannot both pass the quota.
            User.objects.select_for_update().filter(pk=owner.pk).first()
            doomed = replacing() if replacing else []
            quota = settings.QUILL_UPLOAD_QUOTA_MB * MiB
            needed = sum(len(encoded.data) for _, encoded in items)
            if _used_bytes(owner, excluding=[upload.pk for upload in doomed]) + needed > quota:
                raise TooLarge(
                    f"This image would pass your upload quota of {settings.QUILL_UPLOAD_QUOTA_MB} MiB. "
                    "Delete some images first."
                )
            uploads = []
            for name, encoded in items:
                content = ContentFile(encoded.data)
                content.content_type = encoded.content_type  # type: ignore[attr-defined]
                stored = media.save(name, content)
                saved.append(stored)
                uploads.append(
                    Upload.objects.create(
                        owner=owner,
                        file=stored,
                        content_type=encoded.content_type,
                        size=len(encoded.data),
                        width=encoded.width,
                        height=encoded.height,
                    )
                )
            for upload in doomed:
                upload.delete()
            if then is not None:
                then(uploads)
            _delete_files_on_commit([upload.file for upload in doomed])
    except BaseException:
        for name in saved:
            media.delete(name)
        raise
    return uploads


def _delete_files_on_commit(names: list[str]) -> None:
    def delete() -> None:
        for name in names:
            storage().delete(name)

    if names:
        transaction.on_commit(delete)


def forget_uploads_of(*, owner: User) -> None:
    """Deletes the owner's stored files once the transaction that deletes their account commits."""
    _delete_files_on_commit(list(Upload.objects.filter(owner=owner).values_list("file", flat=True)))


def _count_upload(owner: User) -> None:
    # Decoding is what an upload costs (seconds of a worker for the largest images), so every
    # upload counts, refused or not, before anything is read.
    count_attempt(scope="upload", ident=str(owner.pk), rate=settings.QUILL_UPLOAD_RATE)


def too_many_uploads(refusal: RateLimited) -> str:
    """What a page says when QUILL_UPLOAD_RATE refuses an upload."""
    seconds = refusal.retry_after
    return f"You have uploaded many images in a short time. Please wait {seconds} seconds and try again."


@transaction.atomic
def store_image(*, owner: User, file: IO[bytes]) -> Upload:
    """Checks, re-encodes and stores an image that `owner` uploads (for a story, a cover...)."""
    _count_upload(owner)
    encoded = _decode(file, _image_budget())
    [upload] = _store(owner=owner, items=[(_name("uploads", encoded.extension), encoded)])
    return upload


@transaction.atomic
def store_avatar(*, user: User, file: IO[bytes]) -> User:
    """Makes an uploaded image the user's avatar: the image re-encoded and a square thumbnail
    of it are stored (both counted against the quota), `user.image` becomes the thumbnail's
    URL, and the previous uploaded avatar's files are deleted. An avatar has a smaller pixel
    budget than other images (QUILL_AVATAR_MAX_PIXELS)."""
    _count_upload(user)
    encoded = _decode(file, _avatar_budget())
    thumbnail = _thumbnail(encoded)
    name = _name(AVATARS.rstrip("/"), encoded.extension)
    thumbnail_name = f"{name.rsplit('.', 1)[0]}-{AVATAR_SIZE}.{thumbnail.extension}"

    def previous_avatar() -> list[Upload]:
        return list(Upload.objects.filter(owner=user, file__startswith=AVATARS))

    def point_to(uploads: list[Upload]) -> None:
        user.image = media_url(uploads[-1])
        user.save(update_fields=["image"])

    _store(
        owner=user,
        items=[(name, encoded), (thumbnail_name, thumbnail)],
        replacing=previous_avatar,
        then=point_to,
    )
    return user


@transaction.atomic
def remove_avatar(*, user: User) -> User:
    """Clears the user's avatar (whatever it was) and deletes the files of an uploaded one."""
    previous = list(Upload.objects.filter(owner=user, file__startswith=AVATARS))
    for upload in previous:
        upload.delete()
    user.image = ""
    user.save(update_fields=["image"])
    _delete_files_on_commit([upload.file for upload in previous])
    return user


def media_url(upload: Upload) -> str:
    """The lasting address of an upload, to show or to keep (in a story, as an avatar).

    Local files and public buckets have one from the storage. A private bucket's URLs are
    presigned and expire, so then it is Quill's own /media/<name>, which redirects to a
    fresh presigned URL (accounts.media)."""
    media = storage()
    if getattr(media, "querystring_auth", False):
        return f"{settings.MEDIA_URL}{upload.file}"
    return media.url(upload.file)


def find_upload(*, name: str) -> Upload | None:
    """The recorded upload stored under `name`, if `name` is a name this module gives."""
    if not re.fullmatch(NAME_PATTERN, name):
        return None
    return Upload.objects.filter(file=name).first()


def is_local_storage() -> bool:
    return isinstance(storage(), FileSystemStorage)


NO_SUCH_UPLOAD = "There is no uploaded image at this address: upload the image, or give an https:// address."
USE_HTTPS = "Use an https:// address for the image, or upload one."
CONTROL_CHARACTERS = "The image address has control characters in it (a tab, a line break...)."
CREDENTIALS = "Give the image's address without a user name or password in it."
URL_TOO_LONG = "This image URL is too long."
# What an https:// image address keeps as it is in its path (besides letters, digits and
# "-._~"): RFC 3986's delimiters and "%" escapes, but the apostrophe. Anything else (spaces,
# quotes, angle brackets, backslashes, letters beyond ASCII) is percent-encoded, so the
# address cannot break out of wherever a client writes it (an attribute, CSS, a template).
PATH_SAFE = "/:@!$&()*+,;=%"
QUERY_SAFE = PATH_SAFE + "?"  # the query and the fragment may also hold "?"


def _requote(part: str, safe: str) -> str:
    # A "%" that starts no escape is a percent sign: encoded, like the rest.
    return quote(re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", part), safe=safe)


def _media_name(url: str) -> str | None:
    """What `url` names in Quill's media folder, when it points there: a path under MEDIA_URL,
    or an http(s) URL of that path on one of this site's hosts (ALLOWED_HOSTS; "*", any host,
    does not make every host this site), as POST /api/v1/media answers. None otherwise."""
    if url.startswith(settings.MEDIA_URL):
        return url.removeprefix(settings.MEDIA_URL)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.path.startswith(settings.MEDIA_URL):
        return None
    domain, _port = split_domain_port(parts.netloc)
    if not domain or not validate_host(domain, [host for host in settings.ALLOWED_HOSTS if host != "*"]):
        return None
    # A query or a fragment stays in the name, so that it names no upload.
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment)).removeprefix(settings.MEDIA_URL)


def _https_url(url: str) -> str:
    """An https:// address, percent-encoded where it needs to be (PATH_SAFE), its host in ASCII."""
    if any(unicodedata.category(char) == "Cc" for char in url):
        raise ValidationError(CONTROL_CHARACTERS)
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.encode("idna").decode("ascii")
    except ValueError:  # a malformed IPv6 host, or a host name IDNA cannot write (UnicodeError)
        raise ValidationError(USE_HTTPS) from None
    if parts.scheme != "https":
        raise ValidationError(USE_HTTPS)
    if "@" in netloc:
        raise ValidationError(CREDENTIALS)
    path, query, fragment = (
        _requote(parts.path, PATH_SAFE),
        _requote(parts.query, QUERY_SAFE),
        _requote(parts.fragment, QUERY_SAFE),
    )
    normal = urlunsplit(("https", netloc, path, query, fragment))
    try:
        URLValidator(schemes=["https"])(normal)
    except ValidationError:
        raise ValidationError(USE_HTTPS) from None
    return normal


def clean_image_url(url: str, *, max_length: int) -> str:
    """The image address a member gives (an avatar, a story's cover), as it is to be stored.

    Surrounding whitespace aside, it is one of:
    - empty: no image;
    - the address of a recorded upload (`/media/<name>`, or an absolute URL of it on this
      site's own host, as POST /api/v1/media answers): stored as media_url() gives it;
    - an https:// URL that Django's URLValidator takes, without a user name, a password or
      a control character: stored percent-encoded where needed (no quote or space is kept)
      and with its host in ASCII.
    Anything else (http:, javascript:, data:, `..`, a name that no upload has) is refused
    with a ValidationError whose message the caller puts beside its field.

    Another member's upload may be given: uploads are public (served to anyone who has the
    address, which is unguessable until it is published) and so is any https image, so
    refusing them would protect nothing. The image stays the other member's: it goes when
    they delete it (a replaced avatar, a deleted account), as an https image can vanish from
    its host.
    """
    url = url.strip()
    if not url:
        return ""
    name = _media_name(url)
    if name is None:
        url = _https_url(url)
    elif (upload := find_upload(name=name)) is not None:
        url = media_url(upload)
    else:
        raise ValidationError(NO_SUCH_UPLOAD)
    if len(url) > max_length:
        raise ValidationError(URL_TOO_LONG)
    return url
