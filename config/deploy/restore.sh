#!/usr/bin/env bash
# Restore a backup made by backup.sh into the database named by QMS_DATABASE_URL.
#   config/deploy/restore.sh BACKUP_FILE
# Stop every server process first (systemctl stop 'civicqueue@*'), restore, then run `python -m server init`
# (brings an older backup's schema up to the code's) and start them again.
# SQLite: the file replaces the database (the old one is kept as *.before-restore).
# PostgreSQL: pg_restore --clean replaces every object of the backup in the existing database.
set -euo pipefail
backup="${1:?usage: restore.sh BACKUP_FILE}"
url="${QMS_DATABASE_URL:-sqlite:///${QMS_INSTANCE:-instance}/civicqueue.db}"
case "$url" in
  sqlite:///*)
    db="${url#sqlite:///}"
    sqlite3 "$backup" "PRAGMA integrity_check;" | grep -qx ok
    [ -e "$db" ] && mv "$db" "$db.before-restore"
    rm -f "$db-wal" "$db-shm"
    cp "$backup" "$db"
    ;;
  postgresql*://*|postgres://*)
    pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error \
      --dbname="${url/postgresql+psycopg:/postgresql:}" "$backup"
    ;;
  *) echo "restore.sh: unsupported QMS_DATABASE_URL: $url" >&2; exit 2 ;;
esac
echo "restored $backup; now run: python -m server init, then start the server"
