-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Revaer store, schema version 5: one view of the cluster and commands
-- carried between nodes (docs/cluster.md). The owner of a torrent publishes
-- a summary of it in torrents.status; a command for a torrent another node
-- owns is a row of commands, with a NOTIFY to the owner, answered in the
-- same row with a NOTIFY back.

ALTER TABLE torrents ADD COLUMN status jsonb;

-- when the node last took over torrents: a takeover's share divides what
-- is left among the live nodes that have not claimed since the death
ALTER TABLE nodes ADD COLUMN last_claim timestamptz;

CREATE TABLE commands (
        id bigserial PRIMARY KEY,
        target_node text NOT NULL,
        from_node text NOT NULL,
        body jsonb NOT NULL,
        created timestamptz NOT NULL DEFAULT now(),
        taken timestamptz,
        answered timestamptz,
        answer jsonb
);
CREATE INDEX commands_waiting ON commands (target_node) WHERE taken IS NULL;
CREATE INDEX commands_answered ON commands (from_node) WHERE answered IS NOT NULL;

CREATE FUNCTION revaer_commands_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        IF TG_OP = 'INSERT' THEN
                PERFORM pg_notify('revaer_commands', NEW.target_node);
        ELSIF NEW.answered IS NOT NULL AND OLD.answered IS NULL THEN
                PERFORM pg_notify('revaer_answers', NEW.from_node);
        END IF;
        RETURN NULL;
END
$$;
CREATE TRIGGER commands_notify AFTER INSERT OR UPDATE ON commands
        FOR EACH ROW EXECUTE FUNCTION revaer_commands_notify();

-- a key made, changed or revoked on one node holds on every node at once
CREATE FUNCTION revaer_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        PERFORM pg_notify('revaer_keys', '');
        RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_notify AFTER INSERT OR UPDATE OR DELETE ON api_keys
        FOR EACH STATEMENT EXECUTE FUNCTION revaer_keys_notify();
