-- The department record of an event: Event.policeIncident, Event.mediationCase and Event.petition (the grid's
-- events page asks for them for every event of the page) look the department table up by event_id
-- (subgraphs/*/loaders.ts, recordsBy on `t.event_id`), and no index served it: every such look-up was a
-- sequential scan of the whole department table: 2.0 ms at the 5,002 petitions of bench:gateway's data, 77 ms
-- for 20 events at a million rows in memory (a parallel scan; 0.3 ms with the index), more once the table leaves
-- memory, for every events page. One index entry per synced record more for the sync's merge to write.
CREATE INDEX incidents_event_id_idx ON police.incidents (event_id);
CREATE INDEX mediation_cases_event_id_idx ON justice.mediation_cases (event_id);
CREATE INDEX petitions_event_id_idx ON petition.petitions (event_id);
