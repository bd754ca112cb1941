#!/usr/bin/env bash
# Conduit vs a PostgreSQL SKIP LOCKED baseline, in one run on one throw-away PostgreSQL 15 (fsync and
# synchronous_commit on). Builds what it needs (Release), starts PostgreSQL, and runs bench/Conduit.Bench,
# which starts a Conduit node as a separate process on that PostgreSQL.
#
#   bench/run.sh --quick          smoke run, under 3 minutes (scenarios 1-6; 6 for 8 s per side; 7 and 8 only with --only)
#   bench/run.sh                  full run (under 30 minutes; sustained 2 x 10 of them); record it in BENCHMARKS.md
#   bench/run.sh --only 2,3       some scenarios; other options go to Conduit.Bench (--workers, --producers,
#                                 --partitions, --hocon FILE, --claim, --batch, --payload, --baseline-poll-ms,
#                                 --drain-backlog N, --queues N, --queues-large N, --sustained SECONDS, --trickle SECONDS,
#                                 --no-pipeline: worker loops poll, then complete, one batch at a time,
#                                 --task-history: the node keeps its task history, off otherwise as the baseline keeps nothing)
#
# Scenarios: 1 enqueue, 2 end to end (drain, mix), 3 schedule-to-start latency, 4 backlog of 1M, 5 many queues
# (10,000; then --queues-large, default 100,000 in the full run, on a fresh node), 6 sustained mix (--sustained
# seconds per side, default 600; per tenth of the run: completed/s, CPU per task, last / first, backlog left),
# 7 scale (one node with 4 partitions; a frontend node and two task-service nodes; each on its own database),
# 8 one journal write (Akka.Persistence.Sql alone in the bench process: the node's settings, the same without auto-preparation, the plugin's defaults).
# Every profile table gives CPU in % of a core and in µs per task for the node(s), PostgreSQL and the bench process.
#
# Results: bench/results/{quick,full}-<time>.md, node logs bench/results/node*.log, PostgreSQL log in the run's
# temporary directory (removed at exit). The last line printed is `e2e ratio vs batched baseline: X.XX`.
set -euo pipefail
case "${1:-}" in
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

PG_BIN="${CONDUIT_PG_BIN:-/usr/lib/postgresql/15/bin}"
if [ ! -x "${PG_BIN}/initdb" ]; then
    echo "PostgreSQL 15 server binaries not found; installing postgresql-15 ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql-15 >/dev/null
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "building (Release) ..." >&2
dotnet build -c Release bench/Conduit.Bench/Conduit.Bench.csproj -v quiet -nologo >"${TMPDIR:-/tmp}/conduit-bench-build.log" 2>&1 \
    || { cat "${TMPDIR:-/tmp}/conduit-bench-build.log" >&2; exit 1; }

BASE=$(mktemp -d /tmp/conduit-bench-XXXXXX)
DATA="$BASE/data"
mkdir -p "$BASE/sock"
AS_PG=()
if [ "$(id -u)" = 0 ]; then
    chown -R postgres:postgres "$BASE"
    AS_PG=(runuser -u postgres --)
fi

cleanup() {
    if [ -f "$DATA/postmaster.pid" ]; then
        (cd "$BASE" && "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1) || true
    fi
    rm -rf "$BASE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$BASE" && "${AS_PG[@]}" "$PG_BIN/initdb" -D "$DATA" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null)

free_port() {
    local p
    while :; do
        p=$(( 20000 + RANDOM % 20000 ))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
PORT=$(free_port)
# fsync and synchronous_commit are on (the defaults), said explicitly: every acknowledged task is on disk.
(cd "$BASE" && "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$DATA" -l "$BASE/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $BASE/sock -c fsync=on -c synchronous_commit=on -c max_connections=300 -c shared_buffers=256MB -c max_wal_size=2GB" \
    start >/dev/null)
echo "PostgreSQL on 127.0.0.1:$PORT ($DATA)" >&2

dotnet bench/Conduit.Bench/bin/Release/net10.0/Conduit.Bench.dll \
    --pg-port "$PORT" --pg-data "$DATA" \
    --node-dll "$ROOT/src/Conduit.Node/bin/Release/net10.0/Conduit.Node.dll" \
    --out "$ROOT/bench/results" "$@"
