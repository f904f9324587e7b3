-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Revaer store, schema version 2: several nodes share the database. Each
-- torrent row names the node that owns it, and each node reserves its own
-- event ids. The catalogue of a version 1 (single-node) database is adopted by
-- the node that migrates it: the store sets revaer.node_id on its session.

CREATE TABLE nodes (
        node_id text PRIMARY KEY,
        name text NOT NULL,
        last_seen timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE torrents ADD COLUMN node_id text;
UPDATE torrents SET node_id = current_setting('revaer.node_id');
ALTER TABLE torrents ALTER COLUMN node_id SET NOT NULL;
ALTER TABLE torrents DROP CONSTRAINT torrents_pkey;
ALTER TABLE torrents ADD PRIMARY KEY (node_id, info_hash);

ALTER TABLE torrents_quarantine ADD COLUMN node_id text;
UPDATE torrents_quarantine SET node_id = current_setting('revaer.node_id');
ALTER TABLE torrents_quarantine ALTER COLUMN node_id SET NOT NULL;

ALTER TABLE event_reservation ADD COLUMN node_id text;
UPDATE event_reservation SET node_id = current_setting('revaer.node_id');
ALTER TABLE event_reservation DROP COLUMN id;
ALTER TABLE event_reservation ALTER COLUMN node_id SET NOT NULL;
ALTER TABLE event_reservation ADD PRIMARY KEY (node_id);
