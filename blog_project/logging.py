"""One JSON object per log line, so log shippers need no parsing rules; no secrets in them."""

import json
import logging
import re
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else was passed through `extra=` and is logged.
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}

# What a log line's values are: anything else passed through `extra=` is logged as its str().
JsonScalar = str | int | float | bool | None

# Links whose last part is a secret that works like a password: each pattern matches the path up
# to the secret, which logs show as REDACTED. A new kind of such link (an unsubscribe link, an
# email confirmation...) adds its pattern here, and every log line leaves its secret out.
_PATH_PART = r"[^/\s\"'?#<>]+"
SECRET_PATH_PREFIXES = [
    # /password-reset/<uid>/<token>/ (it redirects to .../set-password/, the token in the session).
    rf"/password-reset/{_PATH_PART}/(?!set-password\b)",
]
REDACTED = "<redacted>"
_SECRETS = [re.compile(f"({prefix}){_PATH_PART}") for prefix in SECRET_PATH_PREFIXES]


def redact_secrets(text: str) -> str:
    """`text` with the secret part of every link that has one replaced by REDACTED."""
    for secret in _SECRETS:
        text = secret.sub(rf"\1{REDACTED}", text)
    return text


class RedactSecrets(logging.Filter):
    """Redacts secrets from the messages of loggers whose lines JsonFormatter does not write
    (gunicorn's access and error logs: deploy/gunicorn.conf.py)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact_secrets(record.getMessage()), ()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, JsonScalar] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # The whole line: the message, every `extra=` value (a path, Django's `request`) and
        # any traceback.
        return redact_secrets(json.dumps(entry, ensure_ascii=False))
