#!/usr/bin/env bash
# Runs one test (or any filter) N times in a row on the built test project and stops at the first failure.
#   tests/Conduit.Server.Tests/Durability/repeat.sh 50 'FullyQualifiedName~SnapshotsBoundTheJournal'
# Build first (dotnet build tests/Conduit.Server.Tests -v q). TARGET may name a built test dll instead of the project,
# so the runs can go on while the project is rebuilt.
set -euo pipefail
n=${1:?how many runs}
filter=${2:?a dotnet test filter}
target=${TARGET:-tests/Conduit.Server.Tests}
nobuild=--no-build
[[ $target == *.dll ]] && nobuild=
for i in $(seq 1 "$n"); do
  start=$(date +%s)
  if ! out=$(dotnet test "$target" $nobuild --filter "$filter" --logger "console;verbosity=normal" 2>&1); then
    echo "$out" | tail -40
    echo "run $i of $n FAILED"
    exit 1
  fi
  passed=$(echo "$out" | grep -cE '^\s+Passed ' || true)
  echo "run $i: $passed passed in $(( $(date +%s) - start )) s"
done
echo "$n runs, all green"
