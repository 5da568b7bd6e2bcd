-- The app's own SQLite schema (from its deployment guide). Ferry maps into it.
CREATE TABLE settings (
    key VARCHAR(100) PRIMARY KEY,
    value TEXT NOT NULL,
    value_type VARCHAR(20) NOT NULL,
    updated_at DATETIME NOT NULL
);

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

CREATE TABLE progress (
    job_id VARCHAR(200) PRIMARY KEY,
    process_type VARCHAR(50) NOT NULL,
    percent FLOAT NOT NULL,
    message VARCHAR(500),
    progress_metadata TEXT,
    updated_at DATETIME NOT NULL
);

CREATE TABLE heartbeats (
    service_name VARCHAR(50) PRIMARY KEY,
    last_beat DATETIME NOT NULL,
    status VARCHAR(50) NOT NULL
);
