#!/usr/bin/env python3
"""Where the transformer layer's step spends its CPU: shares of perf samples by piece (GEMM by call site, softmax,
LayerNorm, copies, ...), from `perf script` output of the bench's whole-layer loop. Thread-count independent if run
with --threads 1 (every sample is then the step's own or the runtime's).

Record (one SIMD path; prefix DOTNET_EnableAVX512=0 for AVX2, add DOTNET_EnableAVX2=0 for Vector128):
  DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -F 2000 -g -o avx2.data \
    dotnet bench/Ember.Bench/bin/Release/net10.0/Ember.Bench.dll profile --threads 1 --transformer-ops --whole --steps 200
  perf script -i avx2.data -F ip,sym > avx2.script
Then: python3 tools/perf/transformer_shares.py avx2.script [v128.script ...]
(Without DOTNET_EnableWriteXorExecute=0 the JIT's code lies in a double-mapped memfd that perf cannot name.)

The walk up the stack stops at the first frame that names the op: linear's backward closure (AddMm), F.Attention,
F.Linear. The backward closure calls the input gradient's GEMM before the weight gradient's, so of the two return
addresses seen most in one compiled body of it, the lower is the input gradient's.
"""
import collections
import sys


def samples(path):
    stack = []
    for line in open(path):
        frame = line.strip()
        if frame:
            stack.append(frame)
        elif stack:
            yield stack
            stack = []
    if stack:
        yield stack


def is_gemm(frame):
    return 'Gemm' in frame or 'MicroKernel' in frame


def input_gradient_sites(stacks):
    """Return addresses in linear's backward closure that belong to the input gradient's GEMM call."""
    counts = collections.Counter()
    for stack in stacks:
        for frame in stack:
            if 'AddMm>b__0' in frame:
                counts[int(frame.split()[0], 16)] += 1
                break
    bodies = collections.defaultdict(list)
    for address in counts:
        bodies[address >> 12].append(address)  # tiers of the closure are compiled to separate bodies
    sites = set()
    for addresses in bodies.values():
        top = sorted(sorted(addresses, key=lambda a: -counts[a])[:2])
        if len(top) == 2:
            sites.add(top[0])
    return sites


def piece(stack, dx_sites):
    leaf = stack[0]
    gemm = is_gemm(leaf)
    for frame in stack:
        if 'AddMm>b__0' in frame:
            if gemm:
                return 'GEMM dX = dY·W (linear input grads)' if int(frame.split()[0], 16) in dx_sites else 'GEMM dW = dYᵀ·X (linear weight grads)'
            return 'bias grads (column sums)' if 'ReduceAction' in leaf else 'linear backward, other'
        if 'F::Attention' in frame:
            return 'GEMM attention fwd (q·kᵀ, p·v)' if gemm else 'softmax fwd' if 'Softmax' in leaf else 'attention fwd, other'
        if 'F::Linear' in frame:
            return 'GEMM linear fwd (with bias)' if gemm else 'bias rows copied into C (Memmove)' if 'Memmove' in leaf else 'linear fwd, other'
    if gemm:
        return 'GEMM attention bwd (dP, dV, dQ, dK)'
    if 'Softmax' in leaf:
        return 'softmax bwd'
    if 'LayerNorm' in leaf:
        return 'LayerNorm fwd+bwd'
    if 'Relu' in leaf or 'Activation' in leaf:
        return 'ReLU fwd+bwd'
    if any('ViewOps::Clone' in f or 'CopyTo' in f for f in stack):
        return 'copies (head merge, reshapes of grads)'
    if 'TensorPrimitives' in leaf:
        return 'elementwise (residual adds, grad accumulation)'
    if any('StoragePool' in f or 'CpuBackend::Empty' in f for f in stack):
        return 'allocation (storage pool)'
    return 'other (autograd, runtime, JIT, start-up, unresolved)'


def shares(path):
    stacks = list(samples(path))
    dx_sites = input_gradient_sites(stacks)
    return collections.Counter(piece(s, dx_sites) for s in stacks), len(stacks)


def main(paths):
    results = [shares(p) for p in paths]
    pieces = sorted({k for counts, _ in results for k in counts}, key=lambda k: -sum(c[k] / n for c, n in results))
    print(f"  {'share of CPU samples':58}" + ''.join(f"{p.rsplit('/', 1)[-1].split('.')[0]:>9}" for p in paths))
    for k in pieces:
        print(f"  {k:58}" + ''.join(f"{100 * c[k] / n:8.1f}%" for c, n in results))
    print(f"  {'GEMM total':58}" + ''.join(f"{100 * sum(v for k, v in c.items() if k.startswith('GEMM')) / n:8.1f}%" for c, n in results))
    print(f"  {'samples':58}" + ''.join(f"{n:9d}" for _, n in results))


if __name__ == '__main__':
    main(sys.argv[1:])
