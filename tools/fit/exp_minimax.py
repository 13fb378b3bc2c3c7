"""Minimax coefficients for Ember's select-free float32 exp (VectorErf.ExpClampedSingle in
src/Ember.Kernels/Operators/VectorErf.cs), used by SiLU and the tanh GELU.

e^r on |r| <= ln2/2 (plus a little slack for the Cody-Waite reduction's rounding) as p(r) = 1 + c1 r + ... + cN r^N, the
constant term fixed at 1 so that p(0) = 1, c1..cN chosen by the Remez exchange algorithm to minimize the largest relative
error |p(r) - e^r| / e^r. Pure Python in double precision (math.exp as the reference). Prints the levelled error and
the coefficients. Run: python3 tools/fit/exp_minimax.py [N]   (N = 6 for the kernel: relative error 2.6e-9, where the
degree-7 Taylor polynomial of ExpSmallSingle has 5e-9 and degree 5 would have 4.3e-7)
"""
import math
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 6
HALF_WIDTH = math.log(2) / 2 + 1e-4


def solve(a, b):
    """Gaussian elimination with partial pivoting."""
    n = len(b)
    m = [row[:] + [bb] for row, bb in zip(a, b)]
    for i in range(n):
        p = max(range(i, n), key=lambda k: abs(m[k][i]))
        m[i], m[p] = m[p], m[i]
        for k in range(i + 1, n):
            f = m[k][i] / m[i][i]
            for j in range(i, n + 1):
                m[k][j] -= f * m[i][j]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (m[i][n] - sum(m[i][j] * x[j] for j in range(i + 1, n))) / m[i][i]
    return x


def rel_error(c, r):
    return (1 + sum(cj * r ** (j + 1) for j, cj in enumerate(c)) - math.exp(r)) / math.exp(r)


def remez():
    points = N + 1  # N coefficients and the levelled error E
    ref = [HALF_WIDTH * math.cos(math.pi * (points - 1 - i) / (points - 1)) for i in range(points)]
    grid = [-HALF_WIDTH + 2 * HALF_WIDTH * k / 20000 for k in range(20001)]
    for _ in range(30):
        rows = [[r ** j for j in range(1, N + 1)] + [(-1) ** i * math.exp(r)] for i, r in enumerate(ref)]
        sol = solve(rows, [math.exp(r) - 1 for r in ref])
        c, levelled = sol[:N], sol[N]
        errors = [rel_error(c, r) for r in grid]
        # one extremum per run of equal sign
        extrema, start = [], 0
        for k in range(1, len(grid) + 1):
            if k == len(grid) or (errors[k] > 0) != (errors[start] > 0):
                extrema.append(grid[max(range(start, k), key=lambda q: abs(errors[q]))])
                start = k
        if len(extrema) >= points:
            ref = sorted(sorted(extrema, key=lambda r: -abs(rel_error(c, r)))[:points])
    return c, levelled, max(abs(e) for e in errors)


if __name__ == "__main__":
    coefficients, levelled, worst = remez()
    print(f"degree {N}: levelled error {abs(levelled):.3e}, worst on the grid {worst:.3e}")
    for j, cj in enumerate(coefficients):
        print(f"c{j + 1} = {cj:.9e}")
