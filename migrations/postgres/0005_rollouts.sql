-- Rollout plans: saved plan templates, rollouts with the controller's state, what each
-- active rollout claims (an app or a flag in its environment), gate results with their
-- evidence, approvals, and each rollout's timeline.

CREATE TABLE plan_templates (
    name TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    -- The plan as JSON (varai_domain::plan::Plan).
    plan TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE rollouts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id BIGINT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    -- The template the plan was copied from, if any.
    template TEXT,
    -- JSON: the app and version and/or flags released.
    release TEXT NOT NULL,
    plan TEXT NOT NULL,
    -- draft, scheduled, running, succeeded, rolled_back, aborted, failed.
    status TEXT NOT NULL,
    paused BIGINT NOT NULL DEFAULT 0,
    -- Where it is: a phase, and a step of a Gradual phase; since when.
    phase BIGINT NOT NULL DEFAULT 0,
    step BIGINT NOT NULL DEFAULT 0,
    stop_since BIGINT,
    -- Counts entries into a stop (and resumes): gates run once per visit.
    visit BIGINT NOT NULL DEFAULT 0,
    -- 1 once the current stop's audience and traffic are in place.
    applied BIGINT NOT NULL DEFAULT 0,
    -- 1 when someone asked the current stop to move on.
    advance BIGINT NOT NULL DEFAULT 0,
    waiting TEXT,
    last_error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    deployment_id BIGINT REFERENCES deployments (id) ON DELETE SET NULL,
    -- JSON: each released flag's targeting in the environment before the rollout changed it.
    flags_before TEXT,
    start_at BIGINT,
    reason TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_by TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    revision BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX rollouts_status ON rollouts (status, next_attempt_at);

-- An app or a flag held by an active rollout: a second rollout of the same one is refused.
CREATE TABLE rollout_claims (
    environment_id BIGINT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    rollout_id BIGINT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    CONSTRAINT rollout_claims_one_rollout UNIQUE (environment_id, kind, name)
);

CREATE TABLE gate_results (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rollout_id BIGINT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    phase BIGINT NOT NULL,
    step BIGINT NOT NULL,
    gate BIGINT NOT NULL,
    -- Which time the stop was entered: a stop entered again (after a resume) runs again.
    visit BIGINT NOT NULL,
    kind TEXT NOT NULL,
    -- running, passed, failed, inconclusive.
    status TEXT NOT NULL,
    summary TEXT NOT NULL,
    -- JSON evidence: answers, latencies, logs, measurements, the approver's comment.
    evidence TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    CONSTRAINT gate_results_one_per_visit UNIQUE (rollout_id, phase, step, gate, visit)
);

CREATE TABLE rollout_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rollout_id BIGINT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    level TEXT NOT NULL,
    actor TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX rollout_events_rollout ON rollout_events (rollout_id, id);
