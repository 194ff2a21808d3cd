-- The reasons a lead is lost become a list managers keep (crm.lost_reason_list): a reason is added
-- or put out of use, never deleted once a lead was lost for it (lead_lost_reason_code_fkey refuses
-- it). Two reasons differing only in capitals or spaces would split the lost-reason report: the
-- label is unique as read. The order it is offered in is a small number.
CREATE UNIQUE INDEX lost_reason_label_once ON crm.lost_reason (lower(btrim(label)));
ALTER TABLE crm.lost_reason
    ADD CONSTRAINT lost_reason_sort_order_check CHECK (sort_order BETWEEN 0 AND 999);
