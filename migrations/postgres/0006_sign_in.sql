-- Sessions are kept under a SHA-256 hash of their id (a copy of the table reveals no id a
-- browser could present) and name the user they belong to, so a password change or a
-- disabled account ends that user's sessions. Sessions kept by raw id cannot be found by
-- hash: they end, and everyone signs in once more.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN user_id BIGINT;
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Failed sign-ins counted per account and client address: a guesser slows down only
-- themselves, never the account's owner signing in from elsewhere. An attempt is counted
-- before its password is checked, so parallel guesses cannot pass the count together.
CREATE TABLE login_failures (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failed_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, address)
);
