#!/usr/bin/env bash
#
# deploy/timescaledb-local.sh - run a throwaway TimescaleDB server for tests.
#
# Why this exists
# ---------------
# meterledger's tests must run against a real TimescaleDB (hypertables,
# chunks, time_bucket). Debian 12 (bookworm) has no TimescaleDB package, and
# our dev/CI machines can reach only the Debian mirror and PyPI/npm, so the
# Timescale apt repository and Docker images are not an option. Debian 13
# (trixie) does ship postgresql-17-timescaledb. It is the Apache-2 build:
# hypertables, chunks and time_bucket work, while the TSL-licensed features
# (compression, continuous aggregates) are missing.
#
# So this script debootstraps a minimal trixie root file system, installs
# PostgreSQL 17 and TimescaleDB into it with apt, and runs the server inside
# that root with chroot(8) as the root's unprivileged "postgres" user. The
# root is cached outside the git clone: only the first run pays for the build
# (a minute or two); later starts take a few seconds. No mounts are needed
# while a server runs (/proc is mounted only while apt runs in the build).
#
# Usage (as root, from any directory)
# -----------------------------------
#   deploy/timescaledb-local.sh start [--port N]
#       Build the cached root if needed, initialise a fresh data directory,
#       start a server on 127.0.0.1:N (default: a free port), create the
#       database "test", check that the timescaledb extension loads, and
#       print the DSN as the only line on stdout:
#           postgresql://postgres@127.0.0.1:N/test
#       If a server started by this script is already running on port N (or
#       on any port, when --port is omitted), it is reused and its DSN printed.
#
#   deploy/timescaledb-local.sh stop [--port N]
#       Stop the server on port N (default: every server this script started)
#       and delete its data directory. Stopping nothing is not an error.
#
#   deploy/timescaledb-local.sh status
#       Print the DSN of every running server, one per line. Exit status is 0
#       if at least one server is running and 3 if none is.
#
#   Example:
#       dsn="$(deploy/timescaledb-local.sh start)"
#       psql "$dsn" -c 'CREATE EXTENSION IF NOT EXISTS timescaledb'
#       deploy/timescaledb-local.sh stop
#
# Progress messages go to stderr; stdout carries only DSNs.
#
# Environment
#   METERLEDGER_CACHE_DIR      cache location (default /var/cache/meterledger)
#   METERLEDGER_DEBIAN_MIRROR  mirror for the trixie root
#                              (default http://deb.debian.org/debian)
#
# Files under $METERLEDGER_CACHE_DIR
#   timescaledb-trixie/                  the cached root (complete when its
#                                        marker file .meterledger-root exists)
#   timescaledb-trixie/var/lib/meterledger/<port>/
#                                        one server's data dir, socket and log
#   timescaledb-<port>.env               state of a server started by us
#                                        (shell syntax: PORT, DSN, DATA_DIR, LOG_FILE)
#   timescaledb-trixie.build.log         output of the last root build
#   timescaledb.lock                     serialises concurrent invocations

set -euo pipefail
shopt -s nullglob

readonly PG_MAJOR=17
readonly SUITE=trixie
# Bump whenever build_root changes what goes into the root: cached roots with
# another format are rebuilt.
readonly ROOT_FORMAT=1

CACHE_DIR=$(realpath -m "${METERLEDGER_CACHE_DIR:-/var/cache/meterledger}")
readonly CACHE_DIR
readonly MIRROR="${METERLEDGER_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
readonly ROOT="$CACHE_DIR/timescaledb-$SUITE"
readonly MARKER_NAME=".meterledger-root"
readonly ROOT_MARKER="$ROOT/$MARKER_NAME"
readonly BUILD_LOG="$CACHE_DIR/timescaledb-$SUITE.build.log"
readonly LOCK_FILE="$CACHE_DIR/timescaledb.lock"

# Paths as seen from inside the root.
readonly PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
readonly INSTANCES="/var/lib/meterledger"

export DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

# stdout is reserved for DSNs: keep the real stdout as fd 3 and send the
# output of everything else to stderr.
exec 3>&1 1>&2

log() { printf 'timescaledb-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    # Print the "Usage" section of the header above.
    sed -n '/^# Usage/,/^# Progress/{/^# Progress/d; s/^# \{0,1\}//; p}' "${BASH_SOURCE[0]}"
}

# ---------------------------------------------------------------------------
# Cleanup on exit: undo mounts, remove an unfinished root, stop a server whose
# start failed half-way. Runs on success too, when there is nothing to do.
# ---------------------------------------------------------------------------

MOUNTS=()          # mount points made by this run, innermost last
BUILD_DIR=""       # root under construction; removed unless moved into place
STARTING_PORT=""   # server being started; torn down if start fails

cleanup() {
    set +e
    local i
    for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTS[i]}" || umount --lazy "${MOUNTS[i]}"
    done
    MOUNTS=()
    if [[ -n $STARTING_PORT ]]; then
        log "start failed; cleaning up the server on port $STARTING_PORT"
        stop_instance "$STARTING_PORT"
    fi
    if [[ -n $BUILD_DIR ]]; then
        remove_tree "$BUILD_DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Serialise invocations that change state (start/stop) on fd 9.
take_lock() {
    mkdir -p "$CACHE_DIR"
    exec 9>"$LOCK_FILE"
    if ! flock --nonblock 9; then
        log "waiting for another invocation of this script to finish"
        flock 9
    fi
}

# Run a command with its output appended to a log file; on failure show the
# end of that log.
quietly() {
    local logfile=$1
    shift
    if ! "$@" >>"$logfile" 2>&1; then
        log "command failed: $*"
        log "last lines of $logfile:"
        tail -n 30 "$logfile" >&2
        return 1
    fi
}

# Unmount everything mounted at or below a directory, deepest first.
unmount_below() {
    local dir=$1 target
    findmnt --list --noheadings --output TARGET |
        awk -v dir="$dir" '$0 == dir || index($0, dir "/") == 1' |
        sort --reverse |
        while read -r target; do
            log "unmounting $target"
            umount "$target" || umount --lazy "$target"
        done
}

# Delete a root-like tree. Mounts inside it are undone first, and rm never
# crosses into another file system, so a forgotten bind mount can never make
# us delete host files.
remove_tree() {
    local dir=$1
    [[ -e $dir ]] || return 0
    unmount_below "$dir"
    rm -rf --one-file-system -- "$dir"
}

# ---------------------------------------------------------------------------
# Running things inside the root
# ---------------------------------------------------------------------------

# in_root DIR COMMAND...: run COMMAND as root inside the root at DIR with a
# clean environment. fds 3 (our real stdout) and 9 (the lock) are closed so
# that nothing started in there, above all the postmaster, keeps them open:
# otherwise `dsn=$(... start)` would never return and the lock never be freed.
in_root() {
    local dir=$1
    shift
    chroot "$dir" /usr/bin/env -i \
        PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive \
        "$@" 3>&- 9>&-
}

# as_postgres COMMAND...: run COMMAND inside the cached root as its
# "postgres" user (PostgreSQL refuses to run as root). The numeric ids are
# looked up inside the root, as the host may have its own, different
# "postgres" user. (So ps on the host shows the server under whichever host
# user happens to have the same uid.)
POSTGRES_IDS=""
as_postgres() {
    if [[ -z $POSTGRES_IDS ]]; then
        POSTGRES_IDS="$(in_root "$ROOT" id -u postgres):$(in_root "$ROOT" id -g postgres)"
    fi
    chroot --userspec="$POSTGRES_IDS" "$ROOT" /usr/bin/env -i \
        PATH="$PG_BIN:/usr/bin:/bin" LANG=C.UTF-8 HOME=/var/lib/postgresql \
        "$@" 3>&- 9>&-
}

# ---------------------------------------------------------------------------
# The cached trixie root
# ---------------------------------------------------------------------------

root_is_complete() {
    [[ -f $ROOT_MARKER ]] && grep -qx "format=$ROOT_FORMAT" "$ROOT_MARKER"
}

ensure_debootstrap() {
    command -v debootstrap >/dev/null && return 0
    log "installing debootstrap"
    apt-get update -qq </dev/null
    apt-get install -y -qq debootstrap </dev/null
}

ensure_root() {
    root_is_complete && return 0

    if [[ -e $ROOT ]]; then
        [[ -z $(recorded_ports) ]] ||
            die "$ROOT is outdated but servers still use it; run '$0 stop' first"
        log "removing outdated root $ROOT"
        remove_tree "$ROOT"
    fi
    ensure_debootstrap
    build_root
}

# The server needs a few device nodes (/dev/null above all). debootstrap
# normally creates them with mknod, but in some containers it bind-mounts the
# host's /dev during the bootstrap instead, which leaves /dev empty afterwards.
ensure_device_nodes() {
    local dir=$1 name major minor
    while read -r name major minor; do
        [[ -c $dir/dev/$name ]] && continue
        rm -f -- "$dir/dev/$name"
        mknod --mode=0666 "$dir/dev/$name" c "$major" "$minor"
    done <<'EOF'
null 1 3
zero 1 5
full 1 7
random 1 8
urandom 1 9
EOF
}

# Build the root in a temporary directory and move it into place only when it
# is complete, so an interrupted build is simply redone next time.
build_root() {
    local started=$SECONDS stale

    mkdir -p "$CACHE_DIR"
    # Leftovers of builds killed too hard for their EXIT trap to run. We hold
    # the lock, so no other build is in progress.
    for stale in "$ROOT".build.*/; do
        log "removing unfinished build ${stale%/}"
        remove_tree "${stale%/}"
    done

    BUILD_DIR=$(mktemp -d "$ROOT.build.XXXXXX")
    # mktemp creates the directory with mode 0700, but it becomes "/" for the
    # unprivileged postgres user.
    chmod 0755 "$BUILD_DIR"
    : >"$BUILD_LOG"

    log "building the Debian $SUITE root (first run only, takes a minute or two; log: $BUILD_LOG)"
    quietly "$BUILD_LOG" debootstrap --variant=minbase "$SUITE" "$BUILD_DIR" "$MIRROR"
    ensure_device_nodes "$BUILD_DIR"

    # Keep documentation and translations out of the root.
    cat >"$BUILD_DIR/etc/dpkg/dpkg.cfg.d/meterledger-nodoc" <<'EOF'
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
EOF
    # Packages must not try to start services in the root...
    printf '#!/bin/sh\nexit 101\n' >"$BUILD_DIR/usr/sbin/policy-rc.d"
    chmod 0755 "$BUILD_DIR/usr/sbin/policy-rc.d"
    # ...and postgresql-common must not create its default "main" cluster:
    # each server gets a fresh data directory from initdb instead.
    mkdir -p "$BUILD_DIR/etc/postgresql-common/createcluster.d"
    echo 'create_main_cluster = false' \
        >"$BUILD_DIR/etc/postgresql-common/createcluster.d/meterledger.conf"

    # Package maintainer scripts may expect /proc (today's packages install
    # fine without it, but that is not promised). It is mounted only while apt
    # runs; the server itself needs no mounts.
    mount -t proc proc "$BUILD_DIR/proc"
    MOUNTS+=("$BUILD_DIR/proc")

    log "installing postgresql-$PG_MAJOR and postgresql-$PG_MAJOR-timescaledb into the root"
    quietly "$BUILD_LOG" in_root "$BUILD_DIR" apt-get update
    quietly "$BUILD_LOG" in_root "$BUILD_DIR" apt-get install -y \
        --no-install-recommends -o Dpkg::Use-Pty=0 \
        "postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-timescaledb"
    quietly "$BUILD_LOG" in_root "$BUILD_DIR" apt-get clean
    rm -rf "$BUILD_DIR"/var/lib/apt/lists/*

    umount "$BUILD_DIR/proc"
    MOUNTS=()

    # The marker is written last: its presence means "complete".
    {
        echo "format=$ROOT_FORMAT"
        echo "built=$(date --utc +%Y-%m-%dT%H:%M:%SZ)"
        in_root "$BUILD_DIR" dpkg-query --show \
            "postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-timescaledb"
    } >"$BUILD_DIR/$MARKER_NAME"
    mv "$BUILD_DIR" "$ROOT"
    BUILD_DIR=""
    POSTGRES_IDS=""

    log "root ready in $((SECONDS - started)) s ($(du -sh "$ROOT" | cut -f1)): $ROOT"
}

# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------

dsn() { echo "postgresql://postgres@127.0.0.1:$1/test"; }
state_file() { echo "$CACHE_DIR/timescaledb-$1.env"; }
instance_dir() { echo "$INSTANCES/$1"; }   # inside the root

# Ports of all servers this script started (and has not stopped), ascending.
recorded_ports() {
    local f
    for f in "$CACHE_DIR"/timescaledb-*.env; do
        if [[ $f =~ /timescaledb-([0-9]+)\.env$ ]]; then
            echo "${BASH_REMATCH[1]}"
        fi
    done | sort --numeric-sort
}

valid_port() { [[ $1 =~ ^[0-9]+$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535)); }

# Is the server we recorded on this port alive? The PID file alone proves
# little: a killed server lingers as a zombie until it is reaped, and after a
# reboot its PID may belong to another program. So the process must exist,
# be a postgres process and not have exited.
server_running() {
    local port=$1 pidfile pid process
    pidfile=$ROOT$(instance_dir "$port")/data/postmaster.pid
    [[ -f $(state_file "$port") && -f $pidfile ]] || return 1
    read -r pid <"$pidfile" && [[ $pid =~ ^[0-9]+$ ]] || return 1
    process=$(ps -o stat=,comm= -p "$pid") || return 1
    [[ $process != Z* && $process == *" postgres" ]]
}

# Ask the kernel for a free loopback port.
pick_free_port() {
    python3 -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])'
}

# Like PostgreSQL, use SO_REUSEADDR so a port that a stopped server left in
# TIME_WAIT counts as free.
port_is_free() {
    python3 -c '
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)' "$1"
}

# Create a fresh data directory for a server on the given port.
init_instance() {
    local port=$1 dir
    dir=$(instance_dir "$port")

    rm -rf --one-file-system -- "$ROOT$dir"
    mkdir -p "$ROOT$dir"
    in_root "$ROOT" chown postgres:postgres "$dir"
    chmod 0700 "$ROOT$dir"

    quietly "$ROOT$dir/initdb.log" as_postgres initdb --pgdata="$dir/data" \
        --username=postgres --auth=trust --encoding=UTF8 --no-locale \
        --no-sync --no-instructions

    cat >>"$ROOT$dir/data/postgresql.conf" <<EOF

# --- Added by deploy/timescaledb-local.sh: a throwaway test server. ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
# posix shared memory would need /dev/shm mounted in the root; mmap uses
# files in the data directory instead.
dynamic_shared_memory_type = mmap
# The data is deleted on stop, so durability buys nothing: skip fsyncs for
# speed. Never copy these three settings to a real server.
fsync = off
synchronous_commit = off
full_page_writes = off
# Statements on hypertables lock every chunk they touch.
max_locks_per_transaction = 256
# JIT compilation only slows down the short queries of a test suite.
jit = off
timezone = 'UTC'
log_timezone = 'UTC'
EOF
}

# Remember a server so that stop/status find it.
write_state() {
    local port=$1 dir
    dir=$(instance_dir "$port")
    {
        printf 'PORT=%q\n' "$port"
        printf 'DSN=%q\n' "$(dsn "$port")"
        printf 'DATA_DIR=%q\n' "$ROOT$dir/data"
        printf 'LOG_FILE=%q\n' "$ROOT$dir/server.log"
    } >"$(state_file "$port")"
}

# Check from the host that the server is reachable over TCP and that
# TimescaleDB loads in "test". Falls back to the root's psql if the host has
# no client. The extension is left created; the application uses
# CREATE EXTENSION IF NOT EXISTS.
verify_instance() {
    local port=$1 version psql=(psql)
    if ! command -v psql >/dev/null; then
        psql=(chroot "$ROOT" "$PG_BIN/psql")
    fi
    version=$(PGOPTIONS='-c client_min_messages=warning' "${psql[@]}" "$(dsn "$port")" \
        --no-psqlrc --quiet --tuples-only --no-align --set=ON_ERROR_STOP=1 \
        --command='CREATE EXTENSION IF NOT EXISTS timescaledb' \
        --command="SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'" \
        3>&- 9>&-)
    log "TimescaleDB $version is available in database \"test\" on port $port"
}

start_instance() {
    local port=$1 dir
    dir=$(instance_dir "$port")

    STARTING_PORT=$port
    write_state "$port"
    init_instance "$port"

    log "starting PostgreSQL $PG_MAJOR + TimescaleDB on 127.0.0.1:$port"
    if ! as_postgres pg_ctl --pgdata="$dir/data" --log="$dir/server.log" \
        --wait --timeout=60 --silent start; then
        log "server failed to start; last lines of $ROOT$dir/server.log:"
        tail -n 30 "$ROOT$dir/server.log" >&2 || true
        exit 1
    fi
    as_postgres psql --host="$dir" --port="$port" --dbname=postgres \
        --no-psqlrc --quiet --set=ON_ERROR_STOP=1 --command='CREATE DATABASE test'
    verify_instance "$port"
    STARTING_PORT=""
}

# Stop a server (if it runs) and forget it. Safe to call on a server that
# died or never fully started.
stop_instance() {
    local port=$1 dir
    dir=$(instance_dir "$port")

    if server_running "$port"; then
        log "stopping the server on port $port"
        if ! as_postgres pg_ctl --pgdata="$dir/data" --mode=fast --wait \
            --timeout=60 --silent stop; then
            log "fast shutdown failed, trying immediate shutdown"
            as_postgres pg_ctl --pgdata="$dir/data" --mode=immediate --wait \
                --timeout=60 --silent stop || true
        fi
        if server_running "$port"; then
            die "could not stop the server on port $port; data left in $ROOT$dir"
        fi
    fi
    remove_tree "$ROOT$dir"
    rm -f -- "$(state_file "$port")"
}

# Forget servers that are recorded but no longer running (e.g. after a
# reboot or a crash).
forget_dead_servers() {
    local port
    for port in $(recorded_ports); do
        if ! server_running "$port"; then
            log "forgetting the server on port $port, which is no longer running"
            stop_instance "$port"
        fi
    done
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

cmd_start() {
    local port=$1

    take_lock
    forget_dead_servers

    # Idempotence: reuse a server we already run.
    if [[ -z $port ]]; then
        port=$(recorded_ports | head -n 1)
    fi
    if [[ -n $port ]] && server_running "$port"; then
        log "already running on port $port"
        dsn "$port" >&3
        return 0
    fi

    # The root's device nodes are dead on a file system mounted "nodev".
    if findmnt --noheadings --output OPTIONS --target "$CACHE_DIR" | grep -qw nodev; then
        die "$CACHE_DIR is on a nodev file system; point METERLEDGER_CACHE_DIR elsewhere"
    fi
    ensure_root
    if [[ -z $port ]]; then
        command -v python3 >/dev/null || die "python3 is needed to pick a free port; pass --port N"
        port=$(pick_free_port)
    elif command -v python3 >/dev/null && ! port_is_free "$port"; then
        die "port $port on 127.0.0.1 is already in use"
    fi

    start_instance "$port"
    dsn "$port" >&3
}

cmd_stop() {
    local port=$1

    take_lock
    if [[ -n $port ]]; then
        stop_instance "$port"
    else
        for port in $(recorded_ports); do
            stop_instance "$port"
        done
    fi
    # Nothing should be mounted in the root, but never leave a mount behind
    # once no server needs the root any more.
    if [[ -z $(recorded_ports) ]]; then
        unmount_below "$ROOT"
    fi
}

cmd_status() {
    local port found=3
    for port in $(recorded_ports); do
        if server_running "$port"; then
            dsn "$port" >&3
            found=0
        else
            log "port $port: recorded but not running (the next start/stop cleans it up)"
        fi
    done
    return "$found"
}

main() {
    local cmd=${1:-} port=""
    [[ $# -gt 0 ]] && shift

    while [[ $# -gt 0 ]]; do
        case $1 in
            --port) [[ $# -ge 2 ]] || die "--port needs a value"; port=$2; shift 2 ;;
            --port=*) port=${1#--port=}; shift ;;
            *) die "unknown argument: $1 (see '$0 help')" ;;
        esac
    done
    [[ -z $port ]] || valid_port "$port" || die "invalid port: $port"
    port=${port:+$((10#$port))}

    case $cmd in
        help | -h | --help) usage >&3; return 0 ;;
        start | stop | status) ;;
        *) usage; exit 2 ;;
    esac
    [[ $EUID -eq 0 ]] || die "must run as root (debootstrap and chroot need it)"

    case $cmd in
        start) cmd_start "$port" ;;
        stop) cmd_stop "$port" ;;
        status)
            [[ -z $port ]] || die "status takes no --port"
            cmd_status
            ;;
    esac
}

main "$@"
