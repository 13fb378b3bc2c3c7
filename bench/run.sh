#!/usr/bin/env bash
# The side-by-side benchmark of Ember and TorchSharp (issue 12): sets TorchSharp up on first use, then runs every
# workload on both sides with 2 threads and rewrites the side-by-side section of docs/benchmarks.md.
# Extra arguments go to the compare command, e.g. `bash bench/run.sh --only conv` (add --no-docs to leave the docs alone).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
[ -f bench/.torchsharp/native/.done ] || bash bench/setup-torchsharp.sh || echo "TorchSharp set-up failed: timing Ember only" >&2
docs=(--write-docs docs/benchmarks.md)
args=()
for a in "$@"; do if [ "$a" = --no-docs ]; then docs=(); else args+=("$a"); fi; done
# glibc would otherwise give libtorch's large freed blocks back to the kernel and re-fault them on every call.
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967295
dotnet run -c Release --project bench/Ember.Bench -- compare --threads 2 "${docs[@]}" "${args[@]}"
