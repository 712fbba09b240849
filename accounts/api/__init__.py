"""The JSON faces on accounts: API v1 (and later the RealWorld API)."""
