-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Revaer store, schema version 1: one node's catalogue, the settings with a
-- revision and a history, API keys and the setup token. The store runs each
-- migration in one transaction and records it in schema_version.

-- one row; every change moves the revision, and every daemon hears of it
CREATE TABLE settings (
        id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        revision bigint NOT NULL DEFAULT 0 CHECK (revision >= 0),
        document jsonb CHECK (document IS NULL OR jsonb_typeof(document) = 'object')
);
INSERT INTO settings (id, revision, document) VALUES (1, 0, NULL);

-- an edit made by hand (psql) moves the revision too, so the daemons pick it up
CREATE FUNCTION revaer_settings_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        IF NEW.revision = OLD.revision AND NEW.document IS DISTINCT FROM OLD.document THEN
                NEW.revision := OLD.revision + 1;
        END IF;
        RETURN NEW;
END
$$;
CREATE TRIGGER settings_bump BEFORE UPDATE ON settings
        FOR EACH ROW EXECUTE FUNCTION revaer_settings_bump();

-- sent at commit, so a listener never sees a revision that was rolled back
CREATE FUNCTION revaer_settings_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
        IF NEW.revision IS DISTINCT FROM OLD.revision THEN
                PERFORM pg_notify('revaer_settings', NEW.revision::text);
        END IF;
        RETURN NULL;
END
$$;
CREATE TRIGGER settings_notify AFTER UPDATE ON settings
        FOR EACH ROW EXECUTE FUNCTION revaer_settings_notify();

CREATE TABLE settings_history (
        revision bigint PRIMARY KEY,
        ts timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL DEFAULT '',
        reason text NOT NULL DEFAULT '',
        changes jsonb NOT NULL DEFAULT '{}'
);

-- secrets are never stored, only their hashes
CREATE TABLE api_keys (
        key_id text PRIMARY KEY,
        label text NOT NULL DEFAULT '',
        secret_hash text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        burst bigint NOT NULL DEFAULT 0 CHECK (burst >= 0),
        period_s bigint NOT NULL DEFAULT 0 CHECK (period_s >= 0),
        created timestamptz NOT NULL DEFAULT now()
);

-- at most one active token: the row is a singleton
CREATE TABLE setup_token (
        id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        hash text NOT NULL,
        expires_at timestamptz NOT NULL,
        issued_by text NOT NULL DEFAULT ''
);

CREATE TABLE torrents (
        info_hash text PRIMARY KEY,
        meta jsonb,
        resume bytea,
        updated_at timestamptz NOT NULL DEFAULT now()
);

-- records a later stage found unusable, kept for a human to look at
CREATE TABLE torrents_quarantine (
        id bigserial PRIMARY KEY,
        info_hash text NOT NULL,
        meta jsonb,
        resume bytea,
        reason text NOT NULL,
        quarantined_at timestamptz NOT NULL DEFAULT now()
);

-- the highest event id that may have been handed out
CREATE TABLE event_reservation (
        id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        reserved_up_to bigint NOT NULL CHECK (reserved_up_to >= 0)
);
