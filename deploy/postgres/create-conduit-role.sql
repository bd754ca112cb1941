-- The least-privilege PostgreSQL role and database for Conduit nodes (docs/deployment.md#the-database-role).
--
-- Run it once as a superuser (or a role with CREATEROLE and CREATEDB) with psql 15 or newer:
--   CONDUIT_DB_PASSWORD='…' psql -h HOST -U postgres -d postgres -f deploy/postgres/create-conduit-role.sql
-- or without the variable, then set the password interactively (psql hashes it before sending it):
--   psql -h HOST -U postgres -d postgres -f deploy/postgres/create-conduit-role.sql
--   psql -h HOST -U postgres -c '\password conduit'
-- docker-compose.yml mounts this file into /docker-entrypoint-initdb.d, where the postgres image runs it with psql on
-- the first start, with CONDUIT_DB_PASSWORD from .env. Running it again is harmless: it re-applies the same rights.
--
-- What it makes:
--   role conduit      LOGIN, NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT,
--                     member of no other role
--   database conduit  owned by the role running this script (not by conduit); PUBLIC may neither connect nor make
--                     temporary tables in it; conduit may connect
--   schema conduit    in database conduit, owned by conduit: the node creates its journal and snapshot tables here
--                     at start (Akka.Persistence.Sql auto-initialize) and then only reads and writes them
--   schema public     of database conduit: nobody but its owner may create objects in it
--   search_path       conduit, for role conduit in database conduit
-- Nodes connect with: Host=…;Username=conduit;Password=…;Database=conduit

\set ON_ERROR_STOP on
-- psql 15+: copy the environment variable, if set, into a psql variable (otherwise conduit_password stays unset,
-- or keeps a value given with -v conduit_password=…).
\getenv conduit_password CONDUIT_DB_PASSWORD

SELECT 'CREATE ROLE conduit' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'conduit') \gexec
ALTER ROLE conduit WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;
\if :{?conduit_password}
ALTER ROLE conduit WITH PASSWORD :'conduit_password';
\else
\echo 'CONDUIT_DB_PASSWORD is not set: the role has no password yet; set one with: \\password conduit'
\endif

SELECT 'CREATE DATABASE conduit' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'conduit') \gexec
REVOKE ALL ON DATABASE conduit FROM PUBLIC;
GRANT CONNECT ON DATABASE conduit TO conduit;
ALTER ROLE conduit IN DATABASE conduit SET search_path = conduit;

\connect conduit
-- The default since PostgreSQL 15; clusters upgraded from 14 or older still let everyone create in public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS conduit AUTHORIZATION conduit;
ALTER SCHEMA conduit OWNER TO conduit;
REVOKE ALL ON SCHEMA conduit FROM PUBLIC;
