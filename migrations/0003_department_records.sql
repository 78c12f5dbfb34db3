-- Each department's synced records, in the hub's model of that department (connectors map source columns
-- onto these). Every record table carries the same sync columns:
--   id                 the hub's id of the row (federation key)
--   _connector_id      the connector that brought it; (_connector_id, _record_key) is the source identity
--   _record_key        the source system's primary key, composite keys joined by '|'
--   _row_hash          hash of the mapped values: a merge skips rows whose hash did not change
--   _source_updated_at the source's own change time (the incremental cursor), when it has one
--   _synced_at         when the hub last wrote the row
--   _deleted_at        set when the source no longer has the row (soft delete, so events and links keep history)
-- person_id / place_id / grid_code / event_id are filled by linking and projection in the merge step.

-- 公安: household registration (户籍) and police incidents (警情).
CREATE TABLE police.household_registrations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  household_no text, id_number text, id_number_raw text, name text NOT NULL, sex text, birth_date date,
  ethnicity text, relation_to_head text, address text, registered_at date, status text,
  person_id uuid, place_id uuid, grid_code text,
  _connector_id uuid NOT NULL, _record_key text NOT NULL, _row_hash text NOT NULL,
  _source_updated_at timestamptz, _synced_at timestamptz NOT NULL DEFAULT now(), _deleted_at timestamptz,
  UNIQUE (_connector_id, _record_key)
);
CREATE INDEX ON police.household_registrations (person_id);
CREATE INDEX ON police.household_registrations (place_id);

CREATE TABLE police.incidents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  incident_no text NOT NULL, source_category text, category_code text, summary text, reported_at timestamptz,
  address text, status text, handling_unit text, reporter_name text, reporter_phone text,
  parties jsonb NOT NULL DEFAULT '[]',   -- [{name, idNumber, role, phone}] as the source lists them
  place_id uuid, grid_code text, event_id uuid,
  _connector_id uuid NOT NULL, _record_key text NOT NULL, _row_hash text NOT NULL,
  _source_updated_at timestamptz, _synced_at timestamptz NOT NULL DEFAULT now(), _deleted_at timestamptz,
  UNIQUE (_connector_id, _record_key)
);
CREATE INDEX ON police.incidents (place_id);
CREATE INDEX ON police.incidents (grid_code);

-- The persons an incident involves, resolved by linking (derived from incidents.parties in the merge step).
CREATE TABLE police.incident_parties (
  incident_id uuid NOT NULL REFERENCES police.incidents(id) ON DELETE CASCADE,
  person_id uuid NOT NULL, role text NOT NULL,
  PRIMARY KEY (incident_id, person_id, role)
);
CREATE INDEX ON police.incident_parties (person_id);

-- 司法: people's mediation (人民调解) and community correction (社区矫正).
CREATE TABLE justice.mediation_cases (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  case_no text NOT NULL, dispute_type text, category_code text, summary text,
  parties jsonb NOT NULL DEFAULT '[]', mediator text, mediation_org text,
  level text,            -- village / town / county
  outcome text, status text, accepted_at timestamptz, closed_at timestamptz, address text,
  place_id uuid, grid_code text, event_id uuid,
  _connector_id uuid NOT NULL, _record_key text NOT NULL, _row_hash text NOT NULL,
  _source_updated_at timestamptz, _synced_at timestamptz NOT NULL DEFAULT now(), _deleted_at timestamptz,
  UNIQUE (_connector_id, _record_key)
);
CREATE INDEX ON justice.mediation_cases (place_id);
CREATE INDEX ON justice.mediation_cases (grid_code);

CREATE TABLE justice.case_parties (
  case_id uuid NOT NULL REFERENCES justice.mediation_cases(id) ON DELETE CASCADE,
  person_id uuid NOT NULL, role text NOT NULL,
  PRIMARY KEY (case_id, person_id, role)
);
CREATE INDEX ON justice.case_parties (person_id);

CREATE TABLE justice.corrections (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  id_number text, id_number_raw text, name text NOT NULL, sex text, birth_date date,
  correction_type text,  -- 管制 / 缓刑 / 假释 / 暂予监外执行
  crime text, start_date date, end_date date, status text, supervising_office text, address text,
  person_id uuid, place_id uuid, grid_code text,
  _connector_id uuid NOT NULL, _record_key text NOT NULL, _row_hash text NOT NULL,
  _source_updated_at timestamptz, _synced_at timestamptz NOT NULL DEFAULT now(), _deleted_at timestamptz,
  UNIQUE (_connector_id, _record_key)
);
CREATE INDEX ON justice.corrections (person_id);

-- 民政: households, subsidies (低保 / 特困), care services.
CREATE TABLE civil.households (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  household_no text NOT NULL, head_id_number text, head_id_number_raw text, head_name text, address text,
  member_count integer, phone text,
  person_id uuid, place_id uuid, grid_code text,
  _connector_id uuid NOT NULL, _record_key text NOT NULL, _row_hash text NOT NULL,
  _source_updated_at timestamptz, _synced_at timestamptz NOT NULL DEFAULT now(), _deleted_at timestamptz,
  UNIQUE (_connector_id, _record_key)
);
CREATE INDEX ON civil.households (person_id);
CREATE INDEX ON civil.households (place_id);

CREATE TABLE civil.subsidies (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subsidy_no text NOT NULL, kind text NOT NULL,  -- dibao (低保), tekun (特困)
  id_number text, id_number_raw text, name text, household_no text, amount numeric(12, 2),
  period_start date, period_end date, status text,
  person_id uuid, grid_code text,
  _connector_id uuid NOT NULL, _record_key text NOT NULL, _row_hash text NOT NULL,
  _source_updated_at timestamptz, _synced_at timestamptz NOT NULL DEFAULT now(), _deleted_at timestamptz,
  UNIQUE (_connector_id, _record_key)
);
CREATE INDEX ON civil.subsidies (person_id);

CREATE TABLE civil.care_services (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  service_no text NOT NULL, kind text,   -- elderly_alone_visit, disability_care, meal_assistance ...
  id_number text, id_number_raw text, name text, provider text, service_date date, status text, note text,
  person_id uuid, grid_code text,
  _connector_id uuid NOT NULL, _record_key text NOT NULL, _row_hash text NOT NULL,
  _source_updated_at timestamptz, _synced_at timestamptz NOT NULL DEFAULT now(), _deleted_at timestamptz,
  UNIQUE (_connector_id, _record_key)
);
CREATE INDEX ON civil.care_services (person_id);

-- 信访: petitions with their handling steps (受理 → 交办 → 办理 → 答复 → 办结).
CREATE TABLE petition.petitions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  petition_no text NOT NULL, channel text,   -- 来信 / 来访 / 网上信访 / 12345
  petitioner_name text, petitioner_id_number text, petitioner_id_number_raw text, petitioner_phone text,
  subject text, content text, category_code text, target_department text,
  status text, satisfaction text, received_at timestamptz, due_at timestamptz, closed_at timestamptz,
  address text, steps jsonb NOT NULL DEFAULT '[]',  -- [{step, at, org, note}]
  person_id uuid, place_id uuid, grid_code text, event_id uuid,
  _connector_id uuid NOT NULL, _record_key text NOT NULL, _row_hash text NOT NULL,
  _source_updated_at timestamptz, _synced_at timestamptz NOT NULL DEFAULT now(), _deleted_at timestamptz,
  UNIQUE (_connector_id, _record_key)
);
CREATE INDEX ON petition.petitions (person_id);
CREATE INDEX ON petition.petitions (place_id);
CREATE INDEX ON petition.petitions (grid_code);
