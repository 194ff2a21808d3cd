-- A voucher is permanent (finance.voucher_is_permanent), says who posted it and when (posted_by,
-- posted_at), and comes from a document that is itself audited, or is keyed in as a journal whose
-- voucher is the record. Writing every voucher into the audit log again doubled the trail of each
-- posting (and of the backfill of five years' documents) without telling a manager anything new.
DROP TRIGGER IF EXISTS audit_log_change ON finance.voucher;
