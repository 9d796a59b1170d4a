-- A runner database from before versioned migrations (and before runs.deliveries, queue.fork, queue.asks and
-- cluster_state.bootstrapped_at existed): one finished run, one pending queue item, one cluster's facts.
CREATE TABLE runs (
    id INTEGER PRIMARY KEY, cluster TEXT NOT NULL, trigger TEXT NOT NULL, commit_sha TEXT NOT NULL,
    ref TEXT NOT NULL, mode TEXT NOT NULL, pr INTEGER, repo TEXT NOT NULL, delivery_id TEXT,
    status TEXT NOT NULL, result TEXT, summary TEXT, error TEXT, plan_markdown TEXT, plan_json TEXT,
    started_at REAL NOT NULL, finished_at REAL);
CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE queue (
    id INTEGER PRIMARY KEY, key TEXT NOT NULL, cluster TEXT NOT NULL, mode TEXT NOT NULL, pr INTEGER,
    commit_sha TEXT NOT NULL, ref TEXT NOT NULL, base_ref TEXT, trigger TEXT NOT NULL, repo TEXT NOT NULL,
    delivery_id TEXT, every_cluster INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, owner TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, not_before REAL NOT NULL DEFAULT 0, enqueued_at REAL NOT NULL);
CREATE TABLE cluster_state (
    cluster TEXT PRIMARY KEY, handoff_at TEXT, endpoint TEXT, applied_commit TEXT, snapshot TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
INSERT INTO runs VALUES (7, 'home', 'push', 'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1', 'refs/heads/main', 'apply', NULL,
    'lab/home', 'd-7', 'finished', 'success', 'ok', NULL, NULL, NULL, 1700000000.0, 1700000010.0);
INSERT INTO queue VALUES (3, 'home|apply|', 'home', 'apply', NULL, 'b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2',
    'refs/heads/main', NULL, 'push', 'lab/home', 'd-8', 0, 'pending', NULL, 0, 0, 1700000020.0);
INSERT INTO cluster_state (cluster, endpoint, applied_commit) VALUES ('home', '10.0.0.10:6443',
    'a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1');
