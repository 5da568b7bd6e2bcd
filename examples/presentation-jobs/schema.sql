-- presentation_jobs as the seed's PresentationJobModel implies (seed 001): every field of the
-- PresentationJob dataclass a column, indexes on status and created_at, created_files as JSON.
CREATE TABLE presentation_jobs (
    job_id VARCHAR(36) PRIMARY KEY,
    status VARCHAR(20) NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    video_url VARCHAR(500),
    thumbnail_url VARCHAR(500),
    slide_image_path VARCHAR(500),
    created_at DATETIME NOT NULL,
    completed_at DATETIME,
    last_heartbeat DATETIME,
    created_files JSON
);
CREATE INDEX ix_presentation_jobs_status ON presentation_jobs (status);
CREATE INDEX ix_presentation_jobs_created_at ON presentation_jobs (created_at);
