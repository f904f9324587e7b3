-- SPDX-License-Identifier: LGPL-2.1-or-later
-- Revaer store, schema version 3: an API key has a scope (what it may do over
-- HTTP: metrics, read, manage, configure, admin). Keys made before scopes
-- existed could do everything, so they keep admin.

ALTER TABLE api_keys ADD COLUMN scope text NOT NULL DEFAULT 'admin'
        CHECK (scope IN ('metrics', 'read', 'manage', 'configure', 'admin'));
