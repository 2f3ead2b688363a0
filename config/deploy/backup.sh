#!/usr/bin/env bash
# Online backup of the CivicQueue database, SQLite or PostgreSQL, while the server runs.
#   config/deploy/backup.sh [TARGET_DIR]     (default /var/backups/civicqueue; keeps 14 days)
# Reads QMS_DATABASE_URL (as in /etc/civicqueue/civicqueue.env; default: instance/civicqueue.db).
# SQLite: `sqlite3 .backup` copies a consistent snapshot even while the server writes (WAL mode).
# PostgreSQL: `pg_dump --format=custom`, restored with restore.sh (pg_restore). Run it daily, e.g. from cron:
#   15 2 * * * civicqueue set -a; . /etc/civicqueue/civicqueue.env; /opt/civicqueue/config/deploy/backup.sh
set -euo pipefail
target="${1:-/var/backups/civicqueue}"
url="${QMS_DATABASE_URL:-sqlite:///${QMS_INSTANCE:-instance}/civicqueue.db}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
umask 077
mkdir -p "$target"
case "$url" in
  sqlite:///*)
    db="${url#sqlite:///}"
    out="$target/civicqueue-$stamp.sqlite3"
    sqlite3 "$db" ".backup '$out'"
    sqlite3 "$out" "PRAGMA integrity_check;" | grep -qx ok
    ;;
  postgresql*://*|postgres://*)
    out="$target/civicqueue-$stamp.pgdump"
    pg_dump --format=custom --no-owner --dbname="${url/postgresql+psycopg:/postgresql:}" --file="$out"
    ;;
  *) echo "backup.sh: unsupported QMS_DATABASE_URL: $url" >&2; exit 2 ;;
esac
find "$target" -name 'civicqueue-*' -mtime +14 -delete
echo "$out"
