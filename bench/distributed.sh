#!/usr/bin/env bash
# The distributed rows (issue 20): DistributedDataParallel steps of the `ember train` models for 1, 2 and 4 ranks under
# Open MPI's mpirun on this machine, and with --scaling-model the modelled multi-machine table of docs/distributed.md.
# Also reached as `bash bench/run.sh distributed [args]`. Prints markdown; docs/benchmarks.md is not rewritten.
#   bash bench/distributed.sh                       # cnn and mlp, 1/2/4 ranks, 20 steps each
#   bash bench/distributed.sh --models cnn --ranks 1,2 --steps 10 --warmup-seconds 3   # warm-up: >= --warmup steps and this long
#   bash bench/distributed.sh --scaling-model [--latency-us 20] [--compute-ms cnn=120,mlp=3]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v mpirun >/dev/null || [ "${1:-}" = --scaling-model ] || { echo "mpirun not found: apt-get update && apt-get install -y openmpi-bin libopenmpi-dev" >&2; exit 1; }
dotnet build -c Release bench/Ember.Bench -m:1 -v q -nologo >/dev/null
exec bench/Ember.Bench/bin/Release/net10.0/Ember.Bench distributed "$@"
