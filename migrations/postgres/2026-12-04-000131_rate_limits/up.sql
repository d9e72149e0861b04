-- Rate limits shared by every process on the database (used on PostgreSQL; SQLite's one
-- process keeps them in memory). One row per limit and client: `key_hash` is a keyed hash
-- of the client key (never a raw address), `tat` the limit's "theoretical arrival time"
-- (GCRA) in microseconds since 1970. A row whose `tat` has passed is back to a full budget
-- and is deleted by the periodic clean-up.
-- UNLOGGED: a check commits without waiting for a WAL flush (one fsync per check cost
-- ~6 ms, bench/README.md); after a database crash the table starts empty, which only
-- gives every client a fresh budget.
CREATE UNLOGGED TABLE rate_limits (
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    tat BIGINT NOT NULL,
    PRIMARY KEY (name, key_hash)
);
