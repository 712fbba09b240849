"""What the JSON faces share: strict fields, the JSON parser, JWT schemes, schema conventions.

Each face (API v1 in faces.api.v1, ...) builds its own base view from these parts.
"""
