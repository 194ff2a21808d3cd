-- A posted document's PDF, laid out once and kept: a reprint reads it back instead of laying the
-- document out again (WeasyPrint: 0.3-0.4 s for an invoice in three copies).
--
-- Kept under the document and the SHA-256 of what was laid out (the page's HTML and its copy
-- titles): whatever changes the printout (an e-invoice IRN recorded later, the branch's new logo,
-- a new version of a template) makes a new key, so a kept PDF is never stale, and the older
-- printout stays as it was given to the customer. Rows are permanent, like the documents.
CREATE TABLE platform.printed_document (
    document_kind  text    NOT NULL CONSTRAINT printed_document_kind_check
                                    CHECK (document_kind ~ '^[a-z][a-z_]{2,39}$'),
    document_id    bigint  NOT NULL CONSTRAINT printed_document_id_check CHECK (document_id > 0),
    branch_id      integer NOT NULL REFERENCES master.branch,
    layout_sha256  bytea   NOT NULL CONSTRAINT printed_document_layout_check
                                    CHECK (octet_length(layout_sha256) = 32),
    pdf            bytea   NOT NULL CONSTRAINT printed_document_is_pdf
                                    CHECK (substring(pdf FROM 1 FOR 5) = '\x255044462d'::bytea),
    pdf_sha256     bytea   NOT NULL,
    pdf_bytes      integer GENERATED ALWAYS AS (octet_length(pdf)) STORED,
    printed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_kind, document_id, branch_id, layout_sha256),
    -- The checksum is the database's own: a PDF whose bytes were damaged on the way does not fit it.
    CONSTRAINT printed_document_checksum CHECK (pdf_sha256 = sha256(pdf))
);
-- A PDF's streams are compressed already: kept out of line, not compressed again.
ALTER TABLE platform.printed_document ALTER COLUMN pdf SET STORAGE EXTERNAL;

ALTER TABLE platform.printed_document ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON platform.printed_document USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- As sql/functions/10_platform.sql keeps it (changed there from now on).
CREATE TRIGGER printed_document_is_permanent BEFORE UPDATE OR DELETE ON platform.printed_document
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
