-- Clusters per environment, apps, deployments with their controller state and timeline,
-- snapshots and rollbacks.

-- NULL context: the built-in sandbox cluster; 'in-cluster' or a kubeconfig context otherwise.
-- NULL namespace: the environment's key.
ALTER TABLE environments ADD COLUMN cluster_context TEXT;
ALTER TABLE environments ADD COLUMN cluster_namespace TEXT;

CREATE TABLE apps (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id BIGINT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- The primary Deployment, the active Service and the container whose image changes.
    deployment TEXT NOT NULL,
    service TEXT NOT NULL,
    container TEXT NOT NULL,
    -- The image repository; a version is its tag.
    image TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    CONSTRAINT apps_environment_name_key UNIQUE (environment_id, name)
);

CREATE TABLE deployments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    previous_version TEXT NOT NULL,
    strategy TEXT NOT NULL,
    desired BIGINT NOT NULL,
    schema_version TEXT,
    stage TEXT NOT NULL,
    stage_since BIGINT NOT NULL,
    promote BIGINT NOT NULL DEFAULT 0,
    paused BIGINT NOT NULL DEFAULT 0,
    waiting TEXT,
    last_error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    revision BIGINT NOT NULL DEFAULT 1,
    started_by TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    -- 1 while in progress, NULL after: at most one deployment in progress per app.
    in_progress BIGINT DEFAULT 1,
    CONSTRAINT deployments_one_in_progress UNIQUE (app_id, in_progress)
);

CREATE TABLE deployment_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deployment_id BIGINT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    level TEXT NOT NULL,
    actor TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX deployment_events_deployment ON deployment_events (deployment_id, id);

CREATE TABLE snapshots (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    deployment_id BIGINT REFERENCES deployments (id) ON DELETE SET NULL,
    version TEXT NOT NULL,
    schema_version TEXT,
    objects TEXT NOT NULL,
    flags TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX snapshots_app ON snapshots (app_id, id);

CREATE TABLE rollbacks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots (id) ON DELETE CASCADE,
    app_id BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    deployment_id BIGINT REFERENCES deployments (id) ON DELETE SET NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    results TEXT NOT NULL,
    duration_ms BIGINT NOT NULL
);

-- The sandbox's demo app, in every environment.
INSERT INTO apps (environment_id, name, deployment, service, container, image, created_at, created_by)
SELECT id, 'storefront', 'storefront', 'storefront', 'storefront', 'registry.sandbox.local/storefront',
       (EXTRACT(EPOCH FROM now())::BIGINT * 1000), 'system'
FROM environments;
