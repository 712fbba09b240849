"""MEDIA_STORAGE_URL: where uploaded media live, as one URL (read by the settings).

    s3://ACCESS_KEY:SECRET_KEY@HOST[:PORT]/BUCKET[/PREFIX][?OPTIONS]

stores media in an S3-compatible object store through django-storages. HOST is the store's
endpoint (MinIO, Ceph, R2, a moto server...); leave it empty (`s3://KEY:SECRET@/bucket`) for
Amazon S3 itself. The keys are percent-encoded (a `/` in a secret is `%2F`); without them
boto3 finds credentials as usual (AWS_ACCESS_KEY_ID..., an instance role). OPTIONS:

    region=us-east-1        the bucket's region (default us-east-1)
    secure=true|false       https to the endpoint (default true)
    addressing=auto|path|virtual
                            bucket in the path or in the host name (default auto)
    public=false|true       false (default): objects are private and their URLs presigned,
                            so Quill's /media/ addresses redirect to a fresh one; true: the
                            bucket is publicly readable and URLs are plain
    expire=3600             seconds a presigned URL works

This module imports nothing from Django but its ImproperlyConfigured, so settings can use it.
"""

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

S3_BACKEND = "storages.backends.s3.S3Storage"
OPTIONS = {"region", "secure", "addressing", "public", "expire"}
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _flag(options: dict[str, str], name: str, default: bool) -> bool:
    value = options.get(name, "").strip().lower()
    if not value:
        return default
    if value not in TRUE | FALSE:
        raise ImproperlyConfigured(f"MEDIA_STORAGE_URL: {name}= takes true or false, not {value!r}.")
    return value in TRUE


def storage_from_url(url: str) -> dict[str, Any]:
    """The STORAGES["default"] entry that MEDIA_STORAGE_URL describes."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise ImproperlyConfigured("MEDIA_STORAGE_URL must start with s3:// (see README, Configuration).")
    bucket, _, prefix = parts.path.lstrip("/").partition("/")
    if not bucket:
        raise ImproperlyConfigured("MEDIA_STORAGE_URL names no bucket: s3://KEY:SECRET@HOST/BUCKET.")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - OPTIONS
    if unknown:
        raise ImproperlyConfigured(
            f"MEDIA_STORAGE_URL: unknown option {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(OPTIONS))})."
        )
    options = {name: values[-1] for name, values in query.items()}
    addressing = options.get("addressing", "auto") or "auto"
    if addressing not in ("auto", "path", "virtual"):
        raise ImproperlyConfigured("MEDIA_STORAGE_URL: addressing= is auto, path or virtual.")
    try:
        expire = int(options.get("expire") or 3600)
    except ValueError:
        raise ImproperlyConfigured("MEDIA_STORAGE_URL: expire= is a number of seconds.") from None
    host = parts.hostname or ""
    scheme = "https" if _flag(options, "secure", True) else "http"
    endpoint = f"{scheme}://{host}{f':{parts.port}' if parts.port else ''}" if host else None
    return {
        "BACKEND": S3_BACKEND,
        "OPTIONS": {
            "bucket_name": bucket,
            "location": prefix.strip("/"),
            "endpoint_url": endpoint,
            "access_key": unquote(parts.username) if parts.username else None,
            "secret_key": unquote(parts.password) if parts.password else None,
            "region_name": options.get("region") or "us-east-1",
            "addressing_style": None if addressing == "auto" else addressing,
            "signature_version": "s3v4",
            "use_ssl": scheme == "https",
            # Private objects, reached through presigned URLs, unless the bucket is public.
            "querystring_auth": not _flag(options, "public", False),
            "querystring_expire": expire,
            "default_acl": None,
            # Names are random and never reused: never overwrite, cache for good.
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "max-age=31536000, immutable"},
        },
    }
