-- The showroom's logo on its printed documents (invoice, receipt, refund voucher, credit note,
-- quotation, delivery note). A small PNG or JPEG kept in the branch row itself: one branch has
-- one logo, it is read with the branch for every print, and it is backed up with everything else.
ALTER TABLE master.branch
    ADD COLUMN logo bytea,
    ADD COLUMN logo_type text,
    ADD COLUMN logo_updated_at timestamptz,
    ADD CONSTRAINT branch_logo_type_check CHECK (logo_type IN ('image/png', 'image/jpeg')),
    ADD CONSTRAINT branch_logo_needs_type CHECK ((logo IS NULL) = (logo_type IS NULL)),
    ADD CONSTRAINT branch_logo_size_check CHECK (octet_length(logo) <= 262144);

-- The database, not the app, notes when the logo last changed.
CREATE FUNCTION master.branch_logo_touch() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.logo IS DISTINCT FROM OLD.logo THEN
        NEW.logo_updated_at := CASE WHEN NEW.logo IS NULL THEN NULL ELSE now() END;
    ELSE
        NEW.logo_updated_at := OLD.logo_updated_at;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER branch_logo_touch
    BEFORE INSERT OR UPDATE ON master.branch
    FOR EACH ROW EXECUTE FUNCTION master.branch_logo_touch();

-- The audit trail keeps the branch's changes but not the image bytes (up to 256 KB copied into
-- audit.log twice on every edit of the branch): a new or removed logo shows there as a change of
-- logo_type and logo_updated_at (a removed logo: both become null).
DROP TRIGGER audit_log_change ON master.branch;
SELECT audit.track('master.branch', 'branch_id', '', 'logo');
