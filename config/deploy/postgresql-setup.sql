-- PostgreSQL for CivicQueue: a role and a database owned by it. Run as the postgres superuser:
--   sudo -u postgres psql -v password='a long random secret' -f config/deploy/postgresql-setup.sql
-- then put postgresql://civicqueue:SECRET@127.0.0.1:5432/civicqueue into QMS_DATABASE_URL and run
-- `python -m server init` (creates the schema with Alembic; safe to repeat, also after upgrades).
-- Connections: each server process uses up to 30 (pool 10 + overflow 20) plus 1 for the cluster lock; keep
-- max_connections above 31 x processes + retention + psql (the default 100 fits three processes).

CREATE ROLE civicqueue LOGIN PASSWORD :'password';
CREATE DATABASE civicqueue OWNER civicqueue ENCODING 'UTF8' TEMPLATE template0;
\connect civicqueue
-- Only the owner may create objects (PostgreSQL 15 does this by default; older versions do not).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- Times are stored in UTC (DESIGN rule 7); sessions default to it too.
ALTER ROLE civicqueue SET timezone TO 'UTC';
-- A transaction left open by a broken client must not hold locks (and the queue) for ever.
ALTER ROLE civicqueue SET idle_in_transaction_session_timeout TO '60s';
