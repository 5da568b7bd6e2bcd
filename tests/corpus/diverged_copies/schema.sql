CREATE TABLE videos (
    video_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    category TEXT,
    updated_at TEXT
);
