-- The first schema of dbfleet's state store.
--
-- Times are RFC 3339 UTC text with exactly three fractional digits, so that
-- they sort as text. JSON columns are checked with json_valid so that a
-- broken write fails here rather than on a later read.

-- Contents of rendered files, addressed by their sha256, shared by every
-- revision that contains them. `contents` is NULL for contents that some
-- caller declared secret-bearing: of those only the digest and size are kept,
-- and once NULL they are never stored again.
CREATE TABLE blobs (
    sha256   TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    contents BLOB
) STRICT;

-- One rendered configuration. `id` is the sha256 of a canonical encoding of
-- its sorted (path, sha256 of contents) pairs (see src/revision.rs).
CREATE TABLE revisions (
    id         TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE revision_files (
    revision_id TEXT NOT NULL REFERENCES revisions (id),
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL REFERENCES blobs (sha256),
    PRIMARY KEY (revision_id, path)
) STRICT;

-- One `dbfleet apply`.
CREATE TABLE deployments (
    id                TEXT PRIMARY KEY,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    finished_at       TEXT,
    fleet_revision    TEXT NOT NULL,
    rendered_revision TEXT REFERENCES revisions (id),
    actor             TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN
        ('planned', 'applying', 'succeeded', 'failed', 'rolled_back', 'rollback_failed')),
    plan              TEXT NOT NULL CHECK (json_valid(plan)),
    summary           TEXT NOT NULL
) STRICT;

-- Finds deployments a crash left in `applying`.
CREATE INDEX deployments_by_status ON deployments (status);
CREATE INDEX deployments_by_time ON deployments (created_at, id);

-- What one deployment does to one instance. `observed_before` is written,
-- and committed, before anything on the instance is changed; the CHECK below
-- makes the database itself refuse a change that reached `applying` without
-- one.
CREATE TABLE instance_changes (
    deployment_id   TEXT NOT NULL REFERENCES deployments (id),
    instance        TEXT NOT NULL,
    -- The order of the instance in the plan.
    position        INTEGER NOT NULL,
    engine          TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN
        ('pending', 'snapshotted', 'applying', 'applied', 'verified', 'failed', 'restored', 'restore_failed')),
    planned         TEXT NOT NULL CHECK (json_valid(planned)),
    observed_before TEXT CHECK (observed_before IS NULL OR json_valid(observed_before)),
    observed_after  TEXT CHECK (observed_after IS NULL OR json_valid(observed_after)),
    error           TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    snapshot_at     TEXT,
    applying_at     TEXT,
    result_at       TEXT,
    PRIMARY KEY (deployment_id, instance),
    CHECK (applying_at IS NULL OR observed_before IS NOT NULL)
) STRICT;

-- Serves an instance's history and its latest snapshot.
CREATE INDEX instance_changes_by_instance ON instance_changes (instance, applying_at);
