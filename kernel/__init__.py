"""Quill's kernel: what every app may use and what imports nothing else of Quill's (only
Django and the standard library)."""
