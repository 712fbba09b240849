"""The JSON faces on stories: API v1 (and later the RealWorld API)."""
