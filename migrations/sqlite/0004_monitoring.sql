-- Monitoring: a Prometheus per environment, analysis templates, runs and measurements, alert
-- rules, alerts received, and saved business queries.

-- NULL: the server's own Prometheus on loopback.
ALTER TABLE environments ADD COLUMN prometheus_url TEXT;
-- Analysis templates measured for the whole deployment (JSON list of names).
ALTER TABLE deployments ADD COLUMN background_analysis TEXT NOT NULL DEFAULT '[]';

-- Seed data written once (by name), so that deleting it for good is respected.
CREATE TABLE seeds (
    name TEXT PRIMARY KEY,
    at INTEGER NOT NULL
);

CREATE TABLE analysis_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    -- The template as JSON (varai_domain::analysis::AnalysisTemplate).
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    CONSTRAINT analysis_templates_name_key UNIQUE (name)
);

CREATE TABLE analysis_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    -- 'step' (a canary analysis step) or 'background' (the whole deployment).
    kind TEXT NOT NULL,
    step INTEGER,
    -- The templates as they were when the run started, and the arguments it renders with.
    templates TEXT NOT NULL,
    args TEXT NOT NULL,
    phase TEXT NOT NULL,
    message TEXT,
    -- 1 once the controller has acted on the run's verdict.
    acted INTEGER NOT NULL DEFAULT 0,
    started_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX analysis_runs_deployment ON analysis_runs (deployment_id, id);

CREATE TABLE analysis_measurements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
    -- 'template/metric'.
    metric TEXT NOT NULL,
    phase TEXT NOT NULL,
    value REAL,
    message TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX analysis_measurements_run ON analysis_measurements (run_id, id);

CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment_id INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    app TEXT NOT NULL,
    query TEXT NOT NULL,
    condition TEXT NOT NULL,
    for_seconds INTEGER NOT NULL,
    -- JSON varai_domain::analysis::AlertState.
    state TEXT NOT NULL DEFAULT '{"state":"inactive"}',
    last_value REAL,
    last_error TEXT,
    evaluated_at INTEGER,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    CONSTRAINT alert_rules_environment_name_key UNIQUE (environment_id, name)
);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 'alertmanager' or 'rule'.
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    -- 'firing' or 'resolved'.
    status TEXT NOT NULL,
    environment TEXT,
    app TEXT,
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    starts_at INTEGER,
    received_at INTEGER NOT NULL,
    -- What the product did about it, in words.
    action TEXT NOT NULL
);
CREATE INDEX alerts_received ON alerts (received_at);

CREATE TABLE saved_queries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment_id INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    unit TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    CONSTRAINT saved_queries_environment_name_key UNIQUE (environment_id, name)
);
