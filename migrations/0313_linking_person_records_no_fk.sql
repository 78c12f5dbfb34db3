-- core.person_records gets one row per person mention. Its foreign key to core.persons cost a probe and a row
-- lock (FOR KEY SHARE, itself a WAL record) on the person per link: it halved the insert rate of the table every
-- linking batch writes most into. Persons are never deleted (a merge sets merged_into), and every writer of a
-- link points it at a person that exists: linking inserts the batch's new persons before its links in the same
-- transaction, merges and splits point them at locked, existing persons (linking/review.ts).
ALTER TABLE core.person_records DROP CONSTRAINT IF EXISTS person_records_person_id_fkey;
