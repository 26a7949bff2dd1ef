-- Monitoring: a Prometheus per environment, analysis templates, runs and measurements, alert
-- rules, alerts received, and saved business queries.

-- NULL: the server's own Prometheus on loopback.
ALTER TABLE environments ADD COLUMN prometheus_url TEXT;
-- Analysis templates measured for the whole deployment (JSON list of names).
ALTER TABLE deployments ADD COLUMN background_analysis TEXT NOT NULL DEFAULT '[]';

-- Seed data written once (by name), so that deleting it for good is respected.
CREATE TABLE seeds (
    name TEXT PRIMARY KEY,
    at BIGINT NOT NULL
);

CREATE TABLE analysis_templates (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    -- The template as JSON (varai_domain::analysis::AnalysisTemplate).
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    CONSTRAINT analysis_templates_name_key UNIQUE (name)
);

CREATE TABLE analysis_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deployment_id BIGINT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    -- 'step' (a canary analysis step) or 'background' (the whole deployment).
    kind TEXT NOT NULL,
    step BIGINT,
    -- The templates as they were when the run started, and the arguments it renders with.
    templates TEXT NOT NULL,
    args TEXT NOT NULL,
    phase TEXT NOT NULL,
    message TEXT,
    -- 1 once the controller has acted on the run's verdict.
    acted BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX analysis_runs_deployment ON analysis_runs (deployment_id, id);

CREATE TABLE analysis_measurements (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES analysis_runs (id) ON DELETE CASCADE,
    -- 'template/metric'.
    metric TEXT NOT NULL,
    phase TEXT NOT NULL,
    value DOUBLE PRECISION,
    message TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX analysis_measurements_run ON analysis_measurements (run_id, id);

CREATE TABLE alert_rules (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id BIGINT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    app TEXT NOT NULL,
    query TEXT NOT NULL,
    condition TEXT NOT NULL,
    for_seconds BIGINT NOT NULL,
    -- JSON varai_domain::analysis::AlertState.
    state TEXT NOT NULL DEFAULT '{"state":"inactive"}',
    last_value DOUBLE PRECISION,
    last_error TEXT,
    evaluated_at BIGINT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    CONSTRAINT alert_rules_environment_name_key UNIQUE (environment_id, name)
);

CREATE TABLE alerts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- 'alertmanager' or 'rule'.
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    -- 'firing' or 'resolved'.
    status TEXT NOT NULL,
    environment TEXT,
    app TEXT,
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    starts_at BIGINT,
    received_at BIGINT NOT NULL,
    -- What the product did about it, in words.
    action TEXT NOT NULL
);
CREATE INDEX alerts_received ON alerts (received_at);

CREATE TABLE saved_queries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id BIGINT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    unit TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    CONSTRAINT saved_queries_environment_name_key UNIQUE (environment_id, name)
);
