"""Quill's load benchmark (`make bench`): see bench/README.md."""
