#!/usr/bin/env bash
# Before/after: bench/relay.py and bench/fanout.py against two checkouts of Ruang Tanya, one right
# after the other on this machine, alternating, each on a fresh embedded-default database, the
# server on core 0 and the bench on core 1. Each checkout runs its own server and its own bench
# scripts with its own .venv (make install in each first).
#
#   bench/before_after.sh /path/to/before-checkout /path/to/after-checkout [rounds]
#
# Prints one line per run; the figures are the bench scripts' own (see bench/README.md).
# RATE, CONVERSATIONS, DURATION shape relay.py's load; LIBRARIANS, FANOUT_ROUNDS fanout.py's (0: skip it).
# RELAY=0: fan-out only. SCALEOUT=1: PostgreSQL + Redis instead (local servers; a fresh database and key prefix per run).
set -euo pipefail
before=$(cd "$1" && pwd); after=$(cd "$2" && pwd); rounds=${3:-2}
RATE=${RATE:-2}; CONVERSATIONS=${CONVERSATIONS:-300}; DURATION=${DURATION:-20}
LIBRARIANS=${LIBRARIANS:-50}; FANOUT_ROUNDS=${FANOUT_ROUNDS:-100}
work=$(mktemp -d)
cleanup() {
    [ -n "${SCALEOUT:-}" ] && for name in $(cat "$work/databases" 2>/dev/null); do
        dropdb -h 127.0.0.1 -U postgres --if-exists "$name" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

fresh_store() {  # the environment of one run: a fresh SQLite file, or a fresh PostgreSQL database
    local name=$1
    if [ -n "${SCALEOUT:-}" ]; then
        name="rt_ab_${name//[^a-z0-9]/_}"
        createdb -h 127.0.0.1 -U postgres "$name" && echo "$name" >> "$work/databases"
        echo "DATABASE_URL=postgres://postgres@127.0.0.1:5432/$name REDIS_URL=redis://127.0.0.1:6379/11" \
             "CHANNEL_LAYER_PREFIX=rt:ab:$name PRESENCE_PREFIX=rt:ab:$name:presence"
    else
        echo "SQLITE_PATH=$work/$name.sqlite3"
    fi
}

serve() {  # serve TREE ENV: starts daphne on core 0, prints its pid and port
    local tree=$1 store=$2 port; port=$(free_port)
    (cd "$tree" && env $store .venv/bin/python manage.py migrate -v0)
    (cd "$tree" && exec env $store RT_LIMITS=0 taskset -c 0 .venv/bin/daphne -b 127.0.0.1 -p "$port" \
        chatserver.asgi:application >"$work/daphne.log" 2>&1) &
    local pid=$!
    for _ in $(seq 100); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break
        sleep 0.2
    done
    echo "$pid $port"
}

one() {  # one NAME TREE
    local name=$1 tree=$2 store pid port
    [ "${RELAY:-1}" = 0 ] && { fanout "$name" "$tree"; return 0; }
    store=$(fresh_store "$1$RANDOM")
    read -r pid port < <(serve "$tree" "$store")
    (cd "$tree" && env $store taskset -c 1 .venv/bin/python bench/relay.py --url "http://127.0.0.1:$port" \
        --conversations "$CONVERSATIONS" --rate "$RATE" --duration "$DURATION" --server-pid "$pid" \
        --json "$work/relay.json" >/dev/null 2>"$work/relay.err") || echo "  relay exited $? (see below)"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    python3 - "$name" "$work/relay.json" <<'PY'
import json, sys
name, path = sys.argv[1:]
r = json.load(open(path))
flat = {}
def walk(prefix, value):
    if isinstance(value, dict):
        for k, v in value.items():
            walk(f"{prefix}.{k}" if prefix else k, v)
    else:
        flat[prefix] = value
walk("", r)
keys = [k for k in flat if any(w in k for w in ("p50", "p99", "cpu", "lost", "duplicat", "delivered", "rate"))]
print(f"relay  {name:6} " + "  ".join(f"{k}={flat[k]}" for k in sorted(keys)))
PY
    fanout "$name" "$tree"
}

fanout() {  # fanout NAME TREE
    local name=$1 tree=$2 store pid port
    [ "$FANOUT_ROUNDS" -gt 0 ] || return 0
    store=$(fresh_store "$name$RANDOM")
    read -r pid port < <(serve "$tree" "$store")
    (cd "$tree" && env $store taskset -c 1 .venv/bin/python bench/fanout.py --url "http://127.0.0.1:$port" \
        --librarians "$LIBRARIANS" --rounds "$FANOUT_ROUNDS" 2>/dev/null | grep -iE "all dashboards|missing" \
        | sed "s/^/fanout $name  /") || echo "  fanout exited $?"
    kill "$pid"; wait "$pid" 2>/dev/null || true
}

for _ in $(seq "$rounds"); do
    one before "$before"
    one after "$after"
done
