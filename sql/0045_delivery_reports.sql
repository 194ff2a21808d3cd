-- Delivery reports: the SMS provider's callback and the WhatsApp Cloud API's status notifications
-- name a message by the id the provider gave it when it was sent (outbox.provider_message_id).
-- A report finds its message through this index, whatever the size of the outbox; the channel
-- rides along (two providers may number their messages alike).
CREATE INDEX outbox_provider_idx ON communication.outbox (channel, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
