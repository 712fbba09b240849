"""The core's account rules (accounts.services), as every JSON face's schema states them."""

import re

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import uploads
from accounts.models import IMAGE_URL_MAX_LENGTH, USERNAME_MAX_LENGTH, username_validator
from accounts.services import EMAIL_MAX_LENGTH, NAME_MAX_LENGTH, password_min_length

_HOST_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,20}[A-Za-z0-9])?"

# Django's validate_email: a dot-atom local part and a host name whose last label is letters
# (the schema leaves out the quoted, IP-literal and non-ASCII forms Django also takes). Not
# `format: email`: that is RFC 5321's, which also limits the local part to 64 characters, and
# Django does not.
_EMAIL_ATOM = "[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+"
EMAIL_SCHEMA = {
    "maxLength": EMAIL_MAX_LENGTH,
    "pattern": f"^{_EMAIL_ATOM}(?:\\.{_EMAIL_ATOM})*@(?:{_HOST_LABEL}\\.)+[A-Za-z]{{2,63}}$",
}
# A new password: Django's validators (AUTH_PASSWORD_VALIDATORS). The schema states the length
# and "not entirely numeric"; "not common" and "not like the email or name" it cannot.
NEW_PASSWORD_SCHEMA = {
    "minLength": password_min_length(),
    "pattern": "^[^\\u0000]*[^0-9\\u0000][^\\u0000]*$",
}
_USERNAME_REGEX = username_validator.regex
USERNAME_SCHEMA = {
    "maxLength": USERNAME_MAX_LENGTH,
    "pattern": _USERNAME_REGEX if isinstance(_USERNAME_REGEX, str) else _USERNAME_REGEX.pattern,
}
NAME_SCHEMA = {"maxLength": NAME_MAX_LENGTH}
# An avatar or cover: the URL of an upload (one that exists: accounts.uploads.clean_image_url),
# or an https:// URL (the schema states a plain host name and path; the server takes any URL
# Django's URLValidator takes, percent-encoded).
IMAGE_URL_SCHEMA = {
    "maxLength": IMAGE_URL_MAX_LENGTH,
    "pattern": f"^(?:{re.escape(settings.MEDIA_URL)}{uploads.NAME_PATTERN}"
    f"|https://{_HOST_LABEL}(?:\\.{_HOST_LABEL}){{0,3}}\\.[A-Za-z]{{2,24}}(?:/[!-~]*)?)$",
}


# An email as Quill answers it: whatever sign-up took (see EMAIL_SCHEMA), so no `format: email`.
@extend_schema_field({"type": "string"})
class EmailText(serializers.CharField):
    pass
