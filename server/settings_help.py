"""The help line of each ``accord serve`` flag that is made from a setting (``cli.py``)."""

HELP = {
    "host": "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)",
    "port": "TCP port (default 8765; 0 picks a free one)",
    "log_json": "log JSON lines instead of human lines",
    "compression": "turn on per-message deflate (costs CPU and memory per client)",
    "trust_proxy": "take the client address from X-Forwarded-For (behind a proxy only)",
    "rate_limit": "frames per second a connection may send on average (default 20)",
    "rate_burst": "frames a connection may send at once (default 40)",
    "flood_limit": "rate-limited frames in a row before closing with 1008 (default 40)",
    "max_connections": "connections in total; over it HTTP 503 (default 5000)",
    "max_connections_per_ip": "connections per client address; over it HTTP 429 (default 200)",
    "max_sessions": "sessions stored; over it creating one is refused (default 10000)",
    "max_members": "facilitator and participants per session (default 200)",
    "max_observers": "observers per session, apart from participants (default 200)",
    "max_partners": "partners per session, apart from participants (default 20)",
    "hello_timeout": "seconds a new connection has to say hello (default 5)",
    "max_buffer": "bytes queued to a slow client before it is dropped with 4003 (default 1 MiB)",
    "ping_interval": "seconds between keepalive pings (default 20)",
    "ping_timeout": "seconds to wait for a pong before dropping a peer (default 20)",
    "replay_window": "events a reconnecting client may miss and still get replayed (default 1000)",
    "snapshot_every": "events between stored snapshots (default 200)",
    "idle_unload": "seconds an empty session stays in memory (default 300)",
    "creates_per_minute": "sessions one address may create per minute, sustained (default 1)",
    "create_burst": "sessions one address may create at once (default 20)",
    "failed_joins_per_minute": "failed joins (unknown code or token) per address per minute "
    "(default 6)",
    "failed_join_burst": "failed joins one address may make at once (default 30)",
    "snapshots_per_minute": "full-board hellos (no last_seq) per address per minute (default 60)",
    "snapshot_burst": "full-board hellos one address may make at once (default 60)",
    "max_session_events": "events in one session's life; over it, commands get limit "
    "(default 100000)",
    "max_session_bytes": "bytes of one session's board; over it, commands get limit "
    "(default 4 MiB)",
    "expire_after_days": "delete sessions with no event for this many days; closed ones keep "
    "their record (default 90; 0 never)",
    "compact_events": "drop stored events well behind the latest snapshot (default on)",
    "min_free_disk_mb": "refuse writes when the data dir's disk has less free space (default 256)",
    "durability": "SQLite: disk (survives power loss, default) or process (survives kill -9)",
    "store": "sqlite (default) or redis://host:port/db, shared by several relays",
}
