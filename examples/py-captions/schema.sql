-- py-captions' SQLite schema, verbatim from its deployment guide (seed 000).
-- Settings (key-value store)
CREATE TABLE settings (
    key VARCHAR(100) PRIMARY KEY,
    value TEXT NOT NULL,
    value_type VARCHAR(20) NOT NULL,
    updated_at DATETIME NOT NULL
);

-- Executions (job tracking)
CREATE TABLE executions (
    id VARCHAR(200) PRIMARY KEY,
    title VARCHAR(500) NOT NULL,
    path VARCHAR(1000),
    status VARCHAR(50) NOT NULL,
    kind VARCHAR(50),
    started_at DATETIME NOT NULL,
    completed_at DATETIME,
    success BOOLEAN,
    error_message TEXT,
    elapsed_seconds FLOAT,
    input_size_bytes INTEGER,
    output_size_bytes INTEGER,
    cancel_requested BOOLEAN DEFAULT 0
);

-- Execution Steps (granular tracking)
CREATE TABLE execution_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id VARCHAR(200) NOT NULL,
    step_name VARCHAR(100) NOT NULL,
    status VARCHAR(50) NOT NULL,
    started_at DATETIME,
    completed_at DATETIME,
    input_path VARCHAR(1000),
    output_path VARCHAR(1000),
    step_metadata TEXT,
    FOREIGN KEY (execution_id) REFERENCES executions(id)
);

-- Manual Queue (processing queue)
CREATE TABLE manual_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path VARCHAR(1000) UNIQUE NOT NULL,
    skip_caption_generation BOOLEAN DEFAULT 0 NOT NULL,
    log_verbosity VARCHAR(50) DEFAULT 'NORMAL' NOT NULL,
    added_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    priority INTEGER DEFAULT 0 NOT NULL
);

-- Progress (real-time progress)
CREATE TABLE progress (
    job_id VARCHAR(200) PRIMARY KEY,
    process_type VARCHAR(50) NOT NULL,
    percent FLOAT NOT NULL,
    message VARCHAR(500),
    progress_metadata TEXT,
    updated_at DATETIME NOT NULL
);

-- Polling Cache (deduplication)
CREATE TABLE polling_cache (
    rec_id VARCHAR(100) PRIMARY KEY,
    yielded_at DATETIME NOT NULL
);

-- Heartbeats (service health)
CREATE TABLE heartbeats (
    service_name VARCHAR(50) PRIMARY KEY,
    last_beat DATETIME NOT NULL,
    status VARCHAR(50) NOT NULL
);
