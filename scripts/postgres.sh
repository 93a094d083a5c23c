#!/usr/bin/env bash
# Make sure a PostgreSQL server runs on 127.0.0.1 with a test role and database; print its URL.
# Installs Debian's postgresql when missing. Everything it says goes to stderr but the URL.
source "$(dirname "$0")/lib.sh"
{
  apt_install postgresql
  cluster="$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')"
  if [ -z "$cluster" ]; then
    ver="$(ls /usr/lib/postgresql | sort -n | tail -1)"
    as_root pg_createcluster "$ver" main
    cluster="$ver main"
  fi
  set -- $cluster
  port="$(pg_lsclusters -h | awk -v v="$1" -v c="$2" '$1==v && $2==c {print $3}')"
  if ! pg_lsclusters -h | awk -v v="$1" -v c="$2" '$1==v && $2==c {print $4}' | grep -q online; then
    echo "==> starting PostgreSQL $1/$2 on port $port"
    as_root pg_ctlcluster "$1" "$2" start
  fi
  psql_su() { as_root runuser -u postgres -- psql -p "$port" -v ON_ERROR_STOP=1 -qtAc "$1"; }
  if [ "$(psql_su "SELECT 1 FROM pg_roles WHERE rolname='chengguan'")" != 1 ]; then
    psql_su "CREATE ROLE chengguan LOGIN PASSWORD 'chengguan'"
  fi
  if [ "$(psql_su "SELECT 1 FROM pg_database WHERE datname='chengguan_test'")" != 1 ]; then
    psql_su "CREATE DATABASE chengguan_test OWNER chengguan"
  fi
} >&2
echo "postgresql+psycopg://chengguan:chengguan@127.0.0.1:${port}/chengguan_test"
