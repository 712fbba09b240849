"""Text rules every app applies to what people type."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator


def normalize_newlines(text: str) -> str:
    """Text as browsers send it (CRLF from a textarea) stored with plain newlines."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def image_url_errors(url: str, *, max_length: int) -> list[str]:
    """An image (avatar, cover) is given as nothing, an https URL, or one of Quill's own media
    URLs (an upload): never http, data: or javascript:."""
    if len(url) > max_length:
        return ["This image URL is too long."]
    if not url or url.startswith(settings.MEDIA_URL):
        return []
    try:
        URLValidator(schemes=["https"])(url)
    except ValidationError:
        return ["Use an https:// address for the image, or upload one."]
    return []
