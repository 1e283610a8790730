"""accord's relay server: authoritative sessions over websockets, stored in SQLite."""
