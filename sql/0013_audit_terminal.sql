-- The terminal a change came from: next to its address (erp.client_addr), the browser it was
-- made in, set per transaction in the same way (erp.user_agent) by the session lookup and the
-- login. A column default fills it in, so every audit row (triggers and events) carries it.
-- current_setting() is stable: existing rows keep NULL without rewriting the append-only log.
ALTER TABLE audit.log
    ADD COLUMN user_agent text DEFAULT nullif(current_setting('erp.user_agent', true), '');
