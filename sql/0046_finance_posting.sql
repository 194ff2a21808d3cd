-- Every posted document posts its voucher (issue 14, "Books"): the system ledgers those vouchers
-- need beyond the foundation's (sql/0041_finance.sql). The posting functions and their triggers,
-- the period lock on the document tables and the backfill live in sql/functions/96_finance_posting.sql.
--
-- SUBSIDY_RECEIVABLE  the PM E-DRIVE subsidy a sale was credited with (the SUBSIDY receipt on its
--                     booking) until the OEM credits the dealer for it (sales.subsidy_claim).
-- WARRANTY_INCOME     what the OEM settles on a warranty, battery, free-service or recall claim.
-- INSURANCE_COMMISSION the insurer's commission on a policy sold here, when it is received.
-- EXCHANGE_VEHICLE    the old vehicle taken at its valuation as part payment (an EXCHANGE receipt).
-- CANCELLATION_INCOME the charge a cancelled booking keeps (billing.refund.cancellation_charge).
-- COUNTER_CUSTOMERS   the counter sale to a walk-in buyer the ERP has no customer record of.
-- INTER_BRANCH        what another branch (another GSTIN of the company) owes for goods sent to it
--                     on a transfer invoice; TRANSFER_OUT the value of those goods at the sending branch,
--                     TRANSFER_IN at the receiving one (the two sides net to nothing in the company's books).

INSERT INTO finance.ledger (name, group_id, system_key)
SELECT l.name, g.group_id, l.system_key
  FROM (VALUES ('PM E-DRIVE Subsidy Receivable', 'Sundry Debtors', 'SUBSIDY_RECEIVABLE'),
               ('Warranty Claims Income', 'Direct Incomes', 'WARRANTY_INCOME'),
               ('Insurance Commission', 'Indirect Incomes', 'INSURANCE_COMMISSION'),
               ('Exchange Vehicles', 'Stock-in-Hand', 'EXCHANGE_VEHICLE'),
               ('Booking Cancellation Charges', 'Indirect Incomes', 'CANCELLATION_INCOME'),
               ('Walk-in Customers', 'Sundry Debtors', 'COUNTER_CUSTOMERS'),
               ('Inter-branch Account', 'Branch / Divisions', 'INTER_BRANCH'),
               ('Stock Transferred to Branches', 'Branch / Divisions', 'TRANSFER_OUT'),
               ('Stock Received from Branches', 'Branch / Divisions', 'TRANSFER_IN')) AS l (name, grp, system_key)
  JOIN finance.account_group g ON g.name = l.grp;
