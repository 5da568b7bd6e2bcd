CREATE TABLE jobs (
    job_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    created_at DATETIME NOT NULL
);
CREATE TABLE workers (
    worker_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    last_seen DATETIME,
    slots INTEGER NOT NULL DEFAULT 1
);
