-- The linking review queue: mentions whose best candidate person scored in the grey band between the review
-- and link thresholds. The mention got a person of its own (a missed link is better than a wrong merge);
-- a reviewer accepts (the two persons are one: merge) or rejects (they are not: the pair is not proposed again).
CREATE TABLE core.link_reviews (
  id                  bigserial PRIMARY KEY,
  source_table        text NOT NULL,
  record_id           uuid NOT NULL,
  mention_key         text NOT NULL DEFAULT '',
  person_id           uuid NOT NULL REFERENCES core.persons(id),  -- where the mention was linked
  candidate_person_id uuid NOT NULL REFERENCES core.persons(id),  -- who it may be
  score               double precision NOT NULL,
  evidence            jsonb NOT NULL DEFAULT '{}',
  status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'rejected', 'obsolete')),
  decided_by          text,
  decided_at          timestamptz,
  note                text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_table, record_id, mention_key, candidate_person_id)
);
CREATE INDEX link_reviews_pending ON core.link_reviews (created_at, id) WHERE status = 'pending';
CREATE INDEX link_reviews_person ON core.link_reviews (person_id);
CREATE INDEX link_reviews_candidate ON core.link_reviews (candidate_person_id);

-- Every manual decision on links (accept, reject, split, merge), for audit and undo.
CREATE TABLE core.link_decisions (
  id          bigserial PRIMARY KEY,
  action      text NOT NULL CHECK (action IN ('accept', 'reject', 'split', 'merge')),
  review_id   bigint REFERENCES core.link_reviews(id),
  person_id   uuid,          -- the person kept (merge/accept) or the one a record left (split)
  other_id    uuid,          -- the person merged away (merge/accept) or created (split)
  records     jsonb NOT NULL DEFAULT '[]',  -- [{sourceTable, recordId, mentionKey}] moved
  actor       text NOT NULL,
  department  text,
  note        text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX link_decisions_person ON core.link_decisions (person_id);
