-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Revaer store, schema version 4: nodes hold leases and torrents move
-- between them (docs/cluster.md). One node owns an info hash cluster-wide;
-- every write of a torrent row names the owner and its ownership epoch (a
-- fencing token), so a node that lost a torrent cannot write it again.

-- one counter for node epochs and ownership epochs: every value is handed
-- out once, so a token never comes back to a node that lost it
CREATE SEQUENCE revaer_epoch;

-- lease_expires is NULL for a node that runs without [cluster]: its
-- torrents are never taken over
ALTER TABLE nodes ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN lease_expires timestamptz;
ALTER TABLE nodes ADD COLUMN lease_seconds integer NOT NULL DEFAULT 30 CHECK (lease_seconds > 0);
CREATE INDEX nodes_lease_expires ON nodes (lease_expires) WHERE lease_expires IS NOT NULL;

ALTER TABLE torrents ADD COLUMN owner_epoch bigint NOT NULL DEFAULT 0;

-- rows of one info hash on several nodes (allowed up to version 3): the
-- newest stays, the others go to the quarantine with the reason
WITH ranked AS (
        SELECT node_id, info_hash,
               row_number() OVER (PARTITION BY info_hash ORDER BY updated_at DESC, node_id COLLATE "C") AS rank
        FROM torrents
), moved AS (
        DELETE FROM torrents t USING ranked r
        WHERE t.node_id = r.node_id AND t.info_hash = r.info_hash AND r.rank > 1
        RETURNING t.node_id, t.info_hash, t.meta, t.resume
)
INSERT INTO torrents_quarantine (node_id, info_hash, meta, resume, reason)
SELECT node_id, info_hash, meta, resume,
       'schema version 4 keeps one owner per info hash: a newer row of this torrent stays on another node'
FROM moved;

ALTER TABLE torrents DROP CONSTRAINT torrents_pkey;
ALTER TABLE torrents ADD PRIMARY KEY (info_hash);
-- a node loads, adopts and reconciles its own rows; takeover finds a dead node's
CREATE INDEX torrents_node_id ON torrents (node_id);
