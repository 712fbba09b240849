"""/media/<name>: uploaded images, served safely by Quill itself.

Only names that accounts.uploads gives (a random token under uploads/ or avatars/, an image
extension: no way out of the media folder) and that are recorded as uploads are served,
with their recorded image type, `nosniff` and a sandboxing Content-Security-Policy, so a file
can only ever be shown as an image. Names are never reused, so they are cached for good.

Local files (`make run`) are sent from the storage; in the full stack nginx serves the same
folder at the same address first. A private S3 bucket's objects are reached through a
redirect to a fresh presigned URL, so the /media/ address kept in a story or as an avatar
keeps working after any one presigned URL expires.
"""

import re

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, re_path
from django.views.decorators.http import require_safe

from accounts import uploads

CACHE_FOR_GOOD = "public, max-age=31536000, immutable"
MEDIA_CSP = "default-src 'none'; sandbox"


@require_safe
def serve(request: HttpRequest, name: str) -> HttpResponse | FileResponse:
    upload = uploads.find_upload(name=name)
    if upload is None:
        raise Http404("No such image.")
    media = uploads.storage()
    response: HttpResponse | FileResponse
    if uploads.is_local_storage():
        try:
            file = media.open(upload.file, "rb")
        except FileNotFoundError:
            raise Http404("No such image.") from None
        response = FileResponse(file, content_type=upload.content_type)
        response["Cache-Control"] = CACHE_FOR_GOOD
    else:
        response = HttpResponseRedirect(media.url(upload.file))
        # Not for longer than the presigned URL it points to lives.
        expire = int(getattr(media, "querystring_expire", 3600))
        response["Cache-Control"] = f"private, max-age={max(0, min(expire // 2, 600))}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = MEDIA_CSP
    return response


def urlpatterns() -> list[URLPattern]:
    """The route, at MEDIA_URL when that is a path on this site (not another host's URL)."""
    prefix = settings.MEDIA_URL.strip("/")
    if not settings.MEDIA_URL.startswith("/") or not prefix:
        return []
    return [re_path(rf"^{re.escape(prefix)}/(?P<name>{uploads.NAME_PATTERN})$", serve, name="media")]
