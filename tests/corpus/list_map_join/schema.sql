CREATE TABLE manual_queue (
    path TEXT PRIMARY KEY,
    skip_captions BOOLEAN NOT NULL DEFAULT 0,
    log_verbosity TEXT NOT NULL DEFAULT 'NORMAL'
);
