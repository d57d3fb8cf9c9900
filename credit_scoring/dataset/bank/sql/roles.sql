-- Roles and privileges of the bank database (PostgreSQL). Run by `python -m credit_scoring.bankdb migrate`, and at the
-- end of every `load` (a reload recreates the tables). The connecting role owns the schema and its tables (DDL,
-- bulk loads); it needs CREATEROLE. {schema}, {database}, {loader}, {reader} are identifiers filled in by the
-- runner from params.yaml (data.database); passwords are set apart, from the environment, never written here.
-- Idempotent: every statement may run again.

-- The two login roles. NOINHERIT and no other memberships: a role has exactly the rights granted below.
DO $$ BEGIN CREATE ROLE {loader} LOGIN NOINHERIT; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE {reader} LOGIN NOINHERIT; EXCEPTION WHEN duplicate_object THEN NULL; END $$;

-- Nobody else connects or creates temporary tables; the two roles may connect.
REVOKE ALL ON DATABASE {database} FROM PUBLIC;
GRANT CONNECT ON DATABASE {database} TO {loader}, {reader};

-- The schema: usable by both roles, writable (DDL) by its owner only.
REVOKE ALL ON SCHEMA {schema} FROM PUBLIC;
GRANT USAGE ON SCHEMA {schema} TO {loader}, {reader};

-- The loader writes rows (the bank's feeds; foreign keys and primary keys still apply), never DDL.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {loader};
ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {loader};

-- The reader (the pipeline's prepare stage, the API) only reads, and its sessions are read-only as well.
GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {reader};
ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {reader};
ALTER ROLE {reader} IN DATABASE {database} SET default_transaction_read_only = on;
