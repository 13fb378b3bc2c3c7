#!/usr/bin/env bash
# Runs part of Ember.Tests as linux-arm64 code under qemu user-mode emulation on an x64 machine (issue 21), so the
# ARM64 paths (AdvSimd branches, Vector128 kernels with NEON's fused multiply-add) execute somewhere. The runner is
# published self-contained for linux-arm64 and qemu-aarch64 runs it against Debian's arm64 cross libc.
# Usage: tests/Ember.TestRunner/run-arm64.sh [SUBSTRING...]   (default: the ARM64 subset below)
# Installs qemu-user and the arm64 C/C++ runtime with apt-get when missing (as root). Emulation says nothing about speed.
set -euo pipefail
cd "$(dirname "$0")/../.."

sysroot=/usr/aarch64-linux-gnu
missing=()
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-user)
[ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] || missing+=(libc6-arm64-cross)
[ -e "$sysroot/lib/libstdc++.so.6" ] || missing+=(libstdc++6-arm64-cross)
[ -e "$sysroot/lib/libgcc_s.so.1" ] || missing+=(libgcc-s1-arm64-cross)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "run-arm64: missing ${missing[*]} and not root; run: apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "== installing ${missing[*]} for the ARM64 tests"
  aptlog=$(mktemp)
  if ! (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}") >"$aptlog" 2>&1; then
    tail -20 "$aptlog"
    echo "run-arm64: apt-get install -y ${missing[*]} failed" >&2
    exit 1
  fi
fi

out=tests/Ember.TestRunner/bin/publish-linux-arm64
echo "== publishing the test runner for linux-arm64"
dotnet publish tests/Ember.TestRunner -c Release -r linux-arm64 --self-contained -o "$out" -m:1 --nologo -v q -clp:ErrorsOnly

filters=("$@")
if [ ${#filters[@]} -eq 0 ]; then
  # Every kernel test (GEMM, Winograd, convolution, erf/exp, reductions, elementwise, pooling, half/int8), then the ops
  # and layers over the Vector128 kernels (softmax, norms, activations, convolution, the optimizers' vector update).
  # About 4 CPU-minutes under qemu on the 2-core Zen 5 machine (2026-12-05); the rest of the suite adds no ARM64 code path.
  filters=(Ember.Tests.Kernels. Ember.Tests.Nn.NormalizationTests. Ember.Tests.Nn.ActivationTests. Ember.Tests.Ops.SoftmaxTests.
           Ember.Tests.Ops.ConvOpsTests. Ember.Tests.Ops.BatchNormOpsTests. Ember.Tests.Ops.ElementwiseOpsTests.
           Ember.Tests.Ops.ReductionOpsTests. Ember.Tests.Optim.VectorUpdateTests.)
fi
# W^X doubles every code page mapping; under emulation that only costs time. The timeout turns a hang into a failure.
export DOTNET_EnableWriteXorExecute=0
echo "== Ember.Tests on linux-arm64 under $(qemu-aarch64 --version | head -1)"
timeout --kill-after=30 "${EMBER_ARM64_TIMEOUT:-900}" qemu-aarch64 -L "$sysroot" "$out/Ember.TestRunner" "${filters[@]}"
