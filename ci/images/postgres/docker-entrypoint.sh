#!/bin/bash
# Initialises PGDATA the way the official image does, then runs postgres as its user.
set -euo pipefail
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
data="${PGDATA:-/var/lib/postgresql/data}"
if [ "${1:-postgres}" != "postgres" ]; then exec "$@"; fi
shift || true
mkdir -p "$data" /var/run/postgresql
chown postgres:postgres "$data" /var/run/postgresql
chmod 700 "$data"
as_pg() { runuser -u postgres -- "$@"; }
if [ ! -s "$data/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != "trust" ]; then
    echo "Error: POSTGRES_PASSWORD is not set (set POSTGRES_HOST_AUTH_METHOD=trust to allow no password)" >&2
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" > "$pwfile"
  chown postgres "$pwfile"
  # POSTGRES_INITDB_ARGS is word-split into initdb's arguments, as in the official image (e.g. --no-sync).
  # shellcheck disable=SC2086
  as_pg initdb -D "$data" -U "$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f "$pwfile"
  echo "host all all all ${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$data/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$data/postgresql.conf"
  # The temporary init server gets the server's own flags too (e.g. -c fsync=off), as in the official image.
  # With no flags, printf '%q ' would still print one empty argument ('') that postgres refuses.
  server_flags=""
  if [ "$#" -gt 0 ]; then server_flags="$(printf '%q ' "$@")"; fi
  as_pg pg_ctl -D "$data" -o "${server_flags}-c listen_addresses=''" -w start >/dev/null
  if [ "$db" != "postgres" ]; then
    as_pg psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) as_pg psql -v ON_ERROR_STOP=1 -U "$user" -d "$db" -f "$f" ;;
      *.sh) . "$f" ;;
    esac
  done
  as_pg pg_ctl -D "$data" -m fast -w stop >/dev/null
  echo "PostgreSQL init process complete; ready for start up."
fi
# setpriv execs in place (runuser would stay the parent and swallow the stop signal).
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$data" "$@"
