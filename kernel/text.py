"""Text rules every app applies to what people type."""


def normalize_newlines(text: str) -> str:
    """Text as browsers send it (CRLF from a textarea) stored with plain newlines."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
