-- Four eyes and template ownership.
-- Everyone who wrote, edited or started a rollout's plan (and the person behind each token that
-- did), as a JSON list of names: none of them may give the plan's four-eyes approvals.
ALTER TABLE rollouts ADD COLUMN involved TEXT NOT NULL DEFAULT '[]';
-- A plan template's owner, the role others need to change or delete it, and everyone who ever
-- saved it (a rollout copying the template counts them among its plan's writers).
ALTER TABLE plan_templates ADD COLUMN owner TEXT NOT NULL DEFAULT 'system';
ALTER TABLE plan_templates ADD COLUMN min_role TEXT NOT NULL DEFAULT 'operator';
ALTER TABLE plan_templates ADD COLUMN authors TEXT NOT NULL DEFAULT '[]';
-- Rollouts that already ran: their starter and author are known.
UPDATE rollouts SET involved = '["' || replace(created_by, '"', '') || '"]';
