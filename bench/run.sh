#!/usr/bin/env bash
# The side-by-side benchmark of Ember and TorchSharp (issue 12): sets TorchSharp up on first use, then runs every
# workload on both sides with 2 threads and rewrites the side-by-side section of docs/benchmarks.md.
# Extra arguments go to the compare command, e.g. `bash bench/run.sh --only conv` (add --no-docs to leave the docs alone).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# `bash bench/run.sh distributed [args]`: the multi-process rows, which run Ember only (see bench/distributed.sh)
if [ "${1:-}" = distributed ]; then shift; exec bash bench/distributed.sh "$@"; fi
[ -f bench/.torchsharp/native/.done ] || bash bench/setup-torchsharp.sh || echo "TorchSharp set-up failed: timing Ember only" >&2
docs=(--write-docs docs/benchmarks.md)
args=()
for a in "$@"; do if [ "$a" = --no-docs ]; then docs=(); else args+=("$a"); fi; done
# One machine can report each instruction-set path (issue 21): .NET's switches narrow Ember, and the same limits go to
# libtorch (ATen's kernels, MKL, oneDNN), so each path is compared with the peer on the same vector width.
# .NET 10 ignores DOTNET_EnableAVX512F, so it is mapped to DOTNET_EnableAVX512. Limits already set are kept.
if [ "${DOTNET_EnableAVX512F:-}" = 0 ]; then export DOTNET_EnableAVX512=0; fi
# MKL (linked into libtorch_cpu.so) ignores MKL_ENABLE_INSTRUCTIONS=SSE4_2 for its sgemm here (session 16: 86-92
# GFLOP per CPU-second on one thread, over the 128-bit peak); MKL_CBWR=COMPATIBLE holds it to SSE2 (36-40), so the
# Vector128 rows compare 128-bit GEMMs (bench peer-gemm; docs/bench-logs/2026-12-05-session16-s16-v128-ab.txt).
if [ "${DOTNET_EnableAVX2:-}" = 0 ] || [ "${DOTNET_EnableAVX:-}" = 0 ]; then
  export DOTNET_EnableAVX512=0 ATEN_CPU_CAPABILITY=${ATEN_CPU_CAPABILITY:-default} MKL_ENABLE_INSTRUCTIONS=${MKL_ENABLE_INSTRUCTIONS:-SSE4_2} ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-SSE41}
  export MKL_CBWR=${MKL_CBWR:-COMPATIBLE}
elif [ "${DOTNET_EnableAVX512:-}" = 0 ]; then
  export ATEN_CPU_CAPABILITY=${ATEN_CPU_CAPABILITY:-avx2} MKL_ENABLE_INSTRUCTIONS=${MKL_ENABLE_INSTRUCTIONS:-AVX2} ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-AVX2}
fi
# glibc would otherwise give libtorch's large freed blocks back to the kernel and re-fault them on every call.
export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967295
dotnet run -c Release --project bench/Ember.Bench -- compare --threads 2 "${docs[@]}" "${args[@]}"
