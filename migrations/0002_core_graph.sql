-- The 一网统揽 graph: grids, places, persons, events, categories, and the provenance of every link.

-- Grid hierarchy: city → district → street (镇/街道) → community (村/社区) → grid (网格).
CREATE TABLE core.grids (
  code          text PRIMARY KEY,
  name          text NOT NULL,
  level         text NOT NULL CHECK (level IN ('city', 'district', 'street', 'community', 'grid')),
  parent_code   text REFERENCES core.grids(code),
  division_code text,                 -- GB/T 2260 (and its town/village extension) code of this unit
  households    integer,
  worker_name   text,                 -- 网格员 of a grid
  polygon       jsonb,                -- GeoJSON Polygon of a grid, [lon, lat] pairs
  path          text[] NOT NULL DEFAULT '{}'  -- codes from the city down to this node, itself included
);
CREATE INDEX grids_parent ON core.grids (parent_code);
CREATE INDEX grids_path ON core.grids USING gin (path);

-- Event categories as data: a code tree like a 网格事项权责清单, each with the department responsible.
CREATE TABLE core.event_categories (
  code        text PRIMARY KEY,
  name        text NOT NULL,
  parent_code text REFERENCES core.event_categories(code),
  department  text,
  sort        integer NOT NULL DEFAULT 0
);

CREATE TABLE core.places (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  address       text NOT NULL,        -- the standard form
  norm_key      text NOT NULL UNIQUE, -- the key equal addresses share however they were written
  district      text,
  street        text,
  community     text,
  road          text,
  number        text,
  building      text,
  unit          text,
  room          text,
  division_code text,
  grid_code     text REFERENCES core.grids(code),
  lon           double precision,
  lat           double precision,
  parse_status  text NOT NULL DEFAULT 'parsed' CHECK (parse_status IN ('parsed', 'partial', 'unparsed')),
  parse_error   text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX places_grid ON core.places (grid_code);

CREATE TABLE core.persons (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  id_number          text UNIQUE,    -- valid, normalised 18-digit 公民身份号码, or null when none is known
  name               text NOT NULL,
  sex                text CHECK (sex IN ('M', 'F')),
  birth_date         date,
  phone              text,
  residence_place_id uuid REFERENCES core.places(id),
  grid_code          text REFERENCES core.grids(code),
  flags              text[] NOT NULL DEFAULT '{}', -- special groups: dibao, tekun, elderly_alone, mental_disorder, correction, key_person
  merged_into        uuid REFERENCES core.persons(id),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX persons_grid ON core.persons (grid_code);
CREATE INDEX persons_residence ON core.persons (residence_place_id);
CREATE INDEX persons_name ON core.persons (name);

-- Closed loop: reported → accepted → dispatched → handling → feedback → verified → closed → evaluated.
CREATE TABLE core.events (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind          text NOT NULL,   -- police_incident, mediation_case, petition, hazard_report, hotline_request ...
  category_code text REFERENCES core.event_categories(code),
  title         text NOT NULL,
  occurred_at   timestamptz NOT NULL,
  status        text NOT NULL CHECK (status IN ('reported', 'accepted', 'dispatched', 'handling', 'feedback', 'verified', 'closed', 'evaluated')),
  level         text CHECK (level IN ('grid', 'village', 'town', 'county', 'city')),
  severity      text,
  place_id      uuid REFERENCES core.places(id),
  grid_code     text REFERENCES core.grids(code),
  department    text NOT NULL,   -- POLICE, JUSTICE, CIVIL_AFFAIRS, PETITION ...
  source_table  text NOT NULL,   -- e.g. police.incidents
  source_id     uuid NOT NULL,   -- the id of the department row
  closed_at     timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_table, source_id)
);
CREATE INDEX events_grid_time ON core.events (grid_code, occurred_at DESC);
CREATE INDEX events_time ON core.events (occurred_at DESC, id);
CREATE INDEX events_category ON core.events (category_code);
CREATE INDEX events_place ON core.events (place_id);

CREATE TABLE core.event_participants (
  event_id  uuid NOT NULL REFERENCES core.events(id) ON DELETE CASCADE,
  person_id uuid NOT NULL REFERENCES core.persons(id),
  role      text NOT NULL,   -- reporter, party, petitioner, victim, suspect, applicant, respondent ...
  PRIMARY KEY (event_id, person_id, role)
);
CREATE INDEX event_participants_person ON core.event_participants (person_id);

-- Provenance and the link store: which department record stands behind which person, how it was linked.
CREATE TABLE core.person_records (
  department   text NOT NULL,
  source_table text NOT NULL,       -- e.g. civil.subsidies
  record_id    uuid NOT NULL,       -- the department row's id
  person_id    uuid NOT NULL REFERENCES core.persons(id),
  connector_id uuid,
  record_key   text NOT NULL,       -- the key in the source system
  method       text NOT NULL,       -- id_number, scored, review, manual, new
  score        double precision,
  evidence     jsonb NOT NULL DEFAULT '{}',
  linked_at    timestamptz NOT NULL DEFAULT now(),
  synced_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_table, record_id)
);
CREATE INDEX person_records_person ON core.person_records (person_id);
