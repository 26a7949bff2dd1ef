-- Protected environments and change requests.
-- Each environment's protection: whether it applies (1) and, when it does, the lowest role
-- that still changes the environment directly and the lowest that approves change requests.
ALTER TABLE environments ADD COLUMN protected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE environments ADD COLUMN direct_role TEXT NOT NULL DEFAULT 'operator';
ALTER TABLE environments ADD COLUMN approver_role TEXT NOT NULL DEFAULT 'operator';
UPDATE environments SET protected = 1 WHERE key = 'production';

CREATE TABLE change_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment_id INTEGER NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    -- JSON: the proposed change (varai_core::changes::ProposedChange).
    change TEXT NOT NULL,
    -- The texts the review's diff compares: what stood when it was asked for, what would be.
    before_text TEXT NOT NULL,
    after_text TEXT NOT NULL,
    -- open, applied, rejected, withdrawn.
    state TEXT NOT NULL,
    created_by TEXT NOT NULL,
    -- JSON list: the requester and the person behind their token; none of them may approve.
    requesters TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_at INTEGER,
    comment TEXT,
    outcome TEXT
);
CREATE INDEX change_requests_state ON change_requests (state, id);
