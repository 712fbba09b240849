"""Quill's email: every message has a text part and an HTML part, made from templates that
extend the shared layout (templates/mail/base.txt and base.html), and is sent by a job (SPEC
§9.1), over SMTP from EMAIL_URL or on the console."""
