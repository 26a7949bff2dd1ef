-- Clusters per environment, apps, deployments with their controller state and timeline,
-- snapshots and rollbacks.

-- NULL context: the built-in sandbox cluster; 'in-cluster' or a kubeconfig context otherwise.
-- NULL namespace: the environment's key.
ALTER TABLE environments ADD COLUMN cluster_context TEXT;
ALTER TABLE environments ADD COLUMN cluster_namespace TEXT;

CREATE TABLE apps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment_id INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- The primary Deployment, the active Service and the container whose image changes.
    deployment TEXT NOT NULL,
    service TEXT NOT NULL,
    container TEXT NOT NULL,
    -- The image repository; a version is its tag.
    image TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    CONSTRAINT apps_environment_name_key UNIQUE (environment_id, name)
);

CREATE TABLE deployments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    previous_version TEXT NOT NULL,
    strategy TEXT NOT NULL,
    desired INTEGER NOT NULL,
    schema_version TEXT,
    stage TEXT NOT NULL,
    stage_since INTEGER NOT NULL,
    promote INTEGER NOT NULL DEFAULT 0,
    paused INTEGER NOT NULL DEFAULT 0,
    waiting TEXT,
    last_error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL DEFAULT 1,
    started_by TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    -- 1 while in progress, NULL after: at most one deployment in progress per app.
    in_progress INTEGER DEFAULT 1,
    CONSTRAINT deployments_one_in_progress UNIQUE (app_id, in_progress)
);

CREATE TABLE deployment_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    level TEXT NOT NULL,
    actor TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX deployment_events_deployment ON deployment_events (deployment_id, id);

CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    deployment_id INTEGER REFERENCES deployments (id) ON DELETE SET NULL,
    version TEXT NOT NULL,
    schema_version TEXT,
    objects TEXT NOT NULL,
    flags TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX snapshots_app ON snapshots (app_id, id);

CREATE TABLE rollbacks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    deployment_id INTEGER REFERENCES deployments (id) ON DELETE SET NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    results TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
);

-- The sandbox's demo app, in every environment.
INSERT INTO apps (environment_id, name, deployment, service, container, image, created_at, created_by)
SELECT id, 'storefront', 'storefront', 'storefront', 'storefront', 'registry.sandbox.local/storefront',
       (CAST(strftime('%s', 'now') AS INTEGER) * 1000), 'system'
FROM environments;
