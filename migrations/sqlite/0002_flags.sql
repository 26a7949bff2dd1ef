-- Environments, segments, flags with their per-environment targeting, and SDK keys.
-- Definitions are JSON documents (the domain's FlagSpec, Targeting and Segment); keys are
-- columns so they can be unique and referenced.
CREATE TABLE environments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    CONSTRAINT environments_key_key UNIQUE (key)
);

CREATE TABLE segments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    definition TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    CONSTRAINT segments_key_key UNIQUE (key)
);

CREATE TABLE flags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    spec TEXT NOT NULL,
    archived_at INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    CONSTRAINT flags_key_key UNIQUE (key)
);

CREATE TABLE flag_targeting (
    flag_id INTEGER NOT NULL REFERENCES flags (id) ON DELETE CASCADE,
    environment_id INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    targeting TEXT NOT NULL,
    PRIMARY KEY (flag_id, environment_id)
);

CREATE TABLE sdk_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment_id INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    CONSTRAINT sdk_keys_secret_hash_key UNIQUE (secret_hash)
);

INSERT INTO environments (key, name, position, created_at) VALUES
    ('development', 'Development', 1, (CAST(strftime('%s', 'now') AS INTEGER) * 1000)),
    ('staging', 'Staging', 2, (CAST(strftime('%s', 'now') AS INTEGER) * 1000)),
    ('production', 'Production', 3, (CAST(strftime('%s', 'now') AS INTEGER) * 1000));

INSERT INTO segments (key, definition, version, created_at, updated_at, updated_by) VALUES
    ('internal', '{"key": "internal", "name": "Internal", "description": "Company staff, by email domain. Edit the domain to your company''s.", "constraints": [{"contextName": "email", "operator": "STR_ENDS_WITH", "values": ["@example.com"], "caseInsensitive": true, "inverted": false}], "included": [], "excluded": []}', 1, (CAST(strftime('%s', 'now') AS INTEGER) * 1000), (CAST(strftime('%s', 'now') AS INTEGER) * 1000), 'system'),
    ('alpha-testers', '{"key": "alpha-testers", "name": "Alpha Testers", "description": "Users in the alpha cohort (context attribute cohort = alpha).", "constraints": [{"contextName": "cohort", "operator": "IN", "values": ["alpha"], "inverted": false, "caseInsensitive": false}], "included": [], "excluded": []}', 1, (CAST(strftime('%s', 'now') AS INTEGER) * 1000), (CAST(strftime('%s', 'now') AS INTEGER) * 1000), 'system'),
    ('beta-testers', '{"key": "beta-testers", "name": "Beta Testers", "description": "Users in the alpha or beta cohort (context attribute cohort).", "constraints": [{"contextName": "cohort", "operator": "IN", "values": ["alpha", "beta"], "inverted": false, "caseInsensitive": false}], "included": [], "excluded": []}', 1, (CAST(strftime('%s', 'now') AS INTEGER) * 1000), (CAST(strftime('%s', 'now') AS INTEGER) * 1000), 'system'),
    ('low-risk', '{"key": "low-risk", "name": "Low Risk", "description": "Accounts with a riskScore below 30.", "constraints": [{"contextName": "riskScore", "operator": "NUM_LT", "value": "30", "inverted": false, "caseInsensitive": false}], "included": [], "excluded": []}', 1, (CAST(strftime('%s', 'now') AS INTEGER) * 1000), (CAST(strftime('%s', 'now') AS INTEGER) * 1000), 'system'),
    ('medium-risk', '{"key": "medium-risk", "name": "Medium Risk", "description": "Accounts with a riskScore from 30 up to 70.", "constraints": [{"contextName": "riskScore", "operator": "NUM_GTE", "value": "30", "inverted": false, "caseInsensitive": false}, {"contextName": "riskScore", "operator": "NUM_LT", "value": "70", "inverted": false, "caseInsensitive": false}], "included": [], "excluded": []}', 1, (CAST(strftime('%s', 'now') AS INTEGER) * 1000), (CAST(strftime('%s', 'now') AS INTEGER) * 1000), 'system'),
    ('high-risk', '{"key": "high-risk", "name": "High Risk", "description": "Accounts with a riskScore of 70 or more.", "constraints": [{"contextName": "riskScore", "operator": "NUM_GTE", "value": "70", "inverted": false, "caseInsensitive": false}], "included": [], "excluded": []}', 1, (CAST(strftime('%s', 'now') AS INTEGER) * 1000), (CAST(strftime('%s', 'now') AS INTEGER) * 1000), 'system'),
    ('all', '{"key": "all", "name": "All", "description": "Everyone.", "constraints": [], "included": [], "excluded": []}', 1, (CAST(strftime('%s', 'now') AS INTEGER) * 1000), (CAST(strftime('%s', 'now') AS INTEGER) * 1000), 'system');
