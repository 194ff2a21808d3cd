-- An open campaign becomes a line of the job card of a vehicle it covers: the campaign's labour
-- operation, paid by the OEM (coverage RECALL), linked to the campaign. When the line is marked
-- done, the campaign is recorded done on the VIN (warranty.campaign_done, once per VIN), which the
-- campaign's report shows. A claim's campaign covers the claim's VIN, and a recall claim's
-- campaign was done on it (or is a line of the claim's job card): sql/functions/92_warranty.sql.

ALTER TABLE service.job_line
    ADD COLUMN campaign_id integer REFERENCES warranty.campaign (campaign_id),
    ADD CONSTRAINT job_line_campaign_recall CHECK (
        campaign_id IS NULL OR (coverage = 'RECALL' AND operation_code IS NOT NULL));
CREATE INDEX job_line_campaign_idx ON service.job_line (campaign_id) WHERE campaign_id IS NOT NULL;

-- The job card the campaign was done on, when a job line did it.
ALTER TABLE warranty.campaign_done
    ADD COLUMN job_line_id integer UNIQUE REFERENCES service.job_line (job_line_id);

-- A recall is claimed once per campaign and VIN (a claim per campaign).
CREATE UNIQUE INDEX claim_recall_once ON warranty.claim (campaign_id, vin) WHERE kind = 'RECALL';
