-- Boz Ripper's SQLite schema as its Phase 4 ORM models create it (seed 002): seven tables,
-- indexes on status and assignment fields, discs -> titles and tv_seasons -> tv_episodes
-- one-to-many with ON DELETE CASCADE.
CREATE TABLE jobs (
    job_id VARCHAR(64) PRIMARY KEY,
    job_type VARCHAR(20) NOT NULL,
    status VARCHAR(20) NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    disc_id VARCHAR(64),
    title_index INTEGER,
    input_file VARCHAR(1000),
    output_file VARCHAR(1000),
    output_name VARCHAR(500),
    preset VARCHAR(100),
    assigned_agent_id VARCHAR(64),
    assigned_worker_id VARCHAR(64),
    progress FLOAT NOT NULL DEFAULT 0,
    error TEXT,
    requires_approval BOOLEAN NOT NULL DEFAULT 0,
    approved_at DATETIME,
    created_at DATETIME NOT NULL,
    started_at DATETIME,
    completed_at DATETIME
);
CREATE INDEX ix_jobs_status ON jobs (status);
CREATE INDEX ix_jobs_job_type ON jobs (job_type);
CREATE INDEX ix_jobs_assigned_agent_id ON jobs (assigned_agent_id);
CREATE INDEX ix_jobs_assigned_worker_id ON jobs (assigned_worker_id);

CREATE TABLE agents (
    agent_id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    hostname VARCHAR(255),
    status VARCHAR(20) NOT NULL,
    capabilities TEXT,
    current_job_id VARCHAR(64),
    last_heartbeat DATETIME,
    registered_at DATETIME NOT NULL
);
CREATE INDEX ix_agents_status ON agents (status);

CREATE TABLE workers (
    worker_id VARCHAR(64) PRIMARY KEY,
    worker_type VARCHAR(20) NOT NULL,
    hostname VARCHAR(255),
    status VARCHAR(20) NOT NULL,
    capabilities TEXT,
    priority INTEGER NOT NULL DEFAULT 50,
    max_concurrent_jobs INTEGER NOT NULL DEFAULT 1,
    current_jobs TEXT,
    total_jobs_completed INTEGER NOT NULL DEFAULT 0,
    avg_transcode_time_seconds FLOAT,
    last_heartbeat DATETIME,
    registered_at DATETIME NOT NULL
);
CREATE INDEX ix_workers_status ON workers (status);

CREATE TABLE discs (
    disc_id VARCHAR(64) PRIMARY KEY,
    agent_id VARCHAR(64) NOT NULL,
    drive VARCHAR(50) NOT NULL,
    disc_name VARCHAR(500) NOT NULL,
    disc_type VARCHAR(20) NOT NULL,
    status VARCHAR(20) NOT NULL,
    detected_at DATETIME NOT NULL,
    preview_status VARCHAR(20) NOT NULL DEFAULT 'pending',
    media_type VARCHAR(20),
    tv_show_name VARCHAR(500),
    tv_season_number INTEGER,
    tv_season_id VARCHAR(200),
    starting_episode_number INTEGER,
    thetvdb_series_id INTEGER
);
CREATE INDEX ix_discs_status ON discs (status);
CREATE INDEX ix_discs_preview_status ON discs (preview_status);

CREATE TABLE titles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    disc_id VARCHAR(64) NOT NULL REFERENCES discs (disc_id) ON DELETE CASCADE,
    title_index INTEGER NOT NULL,
    name VARCHAR(500),
    duration_seconds INTEGER NOT NULL,
    size_bytes INTEGER,
    chapters INTEGER,
    selected BOOLEAN NOT NULL DEFAULT 0,
    is_extra BOOLEAN NOT NULL DEFAULT 0,
    proposed_filename VARCHAR(500),
    episode_number INTEGER,
    episode_title VARCHAR(500),
    UNIQUE (disc_id, title_index)
);
CREATE INDEX ix_titles_disc_id ON titles (disc_id);

CREATE TABLE tv_seasons (
    season_id VARCHAR(200) PRIMARY KEY,
    show_name VARCHAR(500) NOT NULL,
    season_number INTEGER NOT NULL,
    thetvdb_series_id INTEGER,
    last_episode_assigned INTEGER NOT NULL DEFAULT 0,
    last_disc_id VARCHAR(64),
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE tv_episodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    season_id VARCHAR(200) NOT NULL REFERENCES tv_seasons (season_id) ON DELETE CASCADE,
    episode_number INTEGER NOT NULL,
    title VARCHAR(500),
    air_date DATE,
    runtime_minutes INTEGER,
    UNIQUE (season_id, episode_number)
);
CREATE INDEX ix_tv_episodes_season_id ON tv_episodes (season_id);
