"""Chebyshev coefficients for Ember's vectorized float32 erf (src/Ember.Kernels/Operators/VectorErf.cs).

erf(x) = x * P(x^2)              for |x| <= 1, P interpolated on t = x^2 in [0, 1]
erfc(x) = exp(-x^2) * R(1/x)     for 1 < x < 6,  R interpolated on u = 1/x in [1/6, 1]
erf(x) = sign(x)                 beyond 6 (erfc(6) = 2e-17)

Chebyshev interpolation at Chebyshev nodes in double precision (pure Python, math.erf/erfc as the reference);
prints the coefficients and the worst relative error on a dense grid. Run: python3 tools/fit/erf_chebyshev.py

With --float: the single-precision variant (VectorErf.ErfSingle): erf(x)/x on t = x^2 in [0, 1] (7 terms) and erf
itself on [1, 4] (15 terms; erf rounds to 1 in float from 3.92 on), both converted from Chebyshev series to monomials
in s in [-1, 1] (exact rational arithmetic, then rounded to float32) so the kernel runs two straight Horner chains;
checked with every multiply-add rounded to float32, fused (FMA) and unfused.

With --table: the AVX-512 variant (VectorErf.ErfSingle on Vector512): r(t) = erf(t)/t on 16 intervals of [0, 4) a
quarter wide, each a 6-term Chebyshev interpolant in d = 4t - 1/2 - k in [-1/2, 1/2] converted to monomials, printed as
six 16-entry tables (one register each, indexed per lane with vpermps); erf(x) = x * r(|x|). Checked with fused
float32 multiply-adds, the way the kernel rounds.

With --table8: the AVX2 variant (VectorErf.ErfSingle on Vector256, where vpermps indexes 8 entries): 8 intervals of
[0, 4) half a unit wide, each an 8-term Chebyshev interpolant in d = 2t - 1/2 - k in [-1/2, 1/2] converted to monomials,
printed as eight 8-entry tables; interval 0 interpolates erf(t)/t (erf(x) = x * r(|x|) keeps its relative accuracy near
0), the others erf itself (no final product, and erf's own rounding near 1 instead of r's at 0.26 + x's). Checked with
fused float32 multiply-adds.

With --table4: the x64 Vector128 variant (VectorErf.ErfSingle on Vector128 where AVX has vpermilps, which indexes 4
entries): 4 intervals by the exponent of |x|, [0, 1/2), [1/2, 1), [1, 2), [2, 4), each a 10-term Chebyshev interpolant in
d = |x|*S - B in [-1/2, 1/2) converted to monomials, printed as ten 4-entry tables in the kernel's entry order (the
exponent's low 2 bits: [2, 4) first); interval 0 interpolates erf(t)/t (times |x| in the kernel), the others erf itself.
Evaluated as the kernel does: coefficients 3..9 by Estrin's scheme in d, d^2, d^4, then three Horner steps (the low
steps carry the large terms, whose roundings Estrin would add up); checked with float32 multiply-adds fused and unfused.
"""
import math
import struct
import sys

def cheb_fit(f, a, b, n):
    nodes = [math.cos(math.pi * (k + 0.5) / n) for k in range(n)]
    values = [f(0.5 * (b - a) * s + 0.5 * (b + a)) for s in nodes]
    return [(2.0 if j else 1.0) / n * sum(values[k] * math.cos(math.pi * j * (k + 0.5) / n) for k in range(n)) for j in range(n)]

def clenshaw(c, a, b, x):
    s = (2 * x - a - b) / (b - a)
    b1 = b2 = 0.0
    for cj in reversed(c[1:]):
        b1, b2 = 2 * s * b1 - b2 + cj, b1
    return s * b1 - b2 + c[0]

def small(t):  # erf(x)/x as a function of t = x^2
    if t == 0: return 2 / math.sqrt(math.pi)
    x = math.sqrt(t)
    return math.erf(x) / x

def large(u):  # erfc(x) * exp(x^2) as a function of u = 1/x
    x = 1 / u
    return math.erfc(x) * math.exp(x * x)

def f32(x):
    return struct.unpack('f', struct.pack('f', x))[0]

def clenshaw_f32(c, s):
    c = [f32(v) for v in c]
    s = f32(s)
    two = f32(s + s)
    b1 = b2 = 0.0
    for cj in reversed(c[1:]):
        b1, b2 = f32(f32(f32(two * b1) - b2) + cj), b1
    return f32(f32(f32(s * b1) - b2) + c[0])

def cheb_to_monomial(c):
    """sum c_j T_j(s) as float32 coefficients of 1, s, s^2, ... (T_j expanded exactly with fractions)."""
    from fractions import Fraction
    T = [[1], [0, 1]]
    for j in range(2, len(c)):
        up = [0] + [2 * v for v in T[j - 1]]
        down = T[j - 2] + [0] * (len(up) - len(T[j - 2]))
        T.append([u - d for u, d in zip(up, down)])
    m = [Fraction(0)] * len(c)
    for j, cj in enumerate(c):
        for k, v in enumerate(T[j]): m[k] += Fraction(cj) * v
    return [f32(float(v)) for v in m]

if "--table4" in sys.argv:
    def r(t):
        return 2 / math.sqrt(math.pi) if t == 0 else math.erf(t) / t
    S, B = [2.0, 2.0, 1.0, 0.5], [0.5, 1.5, 1.5, 1.5]                              # d = |x|*S - B per interval
    tables = []
    for k in range(4):
        f = (lambda d: r((d + B[0]) / S[0])) if k == 0 else (lambda d, k=k: math.erf((d + B[k]) / S[k]))
        m = cheb_to_monomial(cheb_fit(f, -0.5, 0.5, 10))                            # in s = 2d
        tables.append([f32(v * 2 ** j) for j, v in enumerate(m)])                   # in d
    for fused in (True, False):
        fma = (lambda a, b, c: f32(a * b + c)) if fused else (lambda a, b, c: f32(f32(a * b) + c))
        worst = 0.0
        for i in range(1, 392001):
            x = f32(i * 1e-5)
            e = struct.unpack('I', struct.pack('f', max(x, 0.25)))[0] >> 23
            k = e - 125                                                             # the kernel's table entry is e & 3
            c = tables[k]
            d = fma(x, S[k], -B[k])
            d2 = f32(d * d)
            tail = fma(fma(c[9], d2, fma(c[8], d, c[7])), f32(d2 * d2), fma(fma(c[6], d, c[5]), d2, fma(c[4], d, c[3])))
            p = fma(fma(fma(tail, d, c[2]), d, c[1]), d, c[0])
            y = f32(x * p) if k == 0 else p
            worst = max(worst, abs(y - math.erf(x)) / math.erf(x))
        print("max relative error on (0, 3.92), float32 arithmetic, %s:" % ("fused" if fused else "unfused"), worst)
    order = [3, 0, 1, 2]                                                            # entry e & 3 holds interval e - 125
    for j in range(10):
        print("C%d =" % j, ", ".join("%.9ef" % tables[k][j] for k in order))
    sys.exit(0)

if "--table8" in sys.argv:
    def r(t):
        return 2 / math.sqrt(math.pi) if t == 0 else math.erf(t) / t
    tables = []
    for k in range(8):
        f = (lambda d: r((k + 0.5 + d) / 2)) if k == 0 else (lambda d: math.erf((k + 0.5 + d) / 2))
        m = cheb_to_monomial(cheb_fit(f, -0.5, 0.5, 8))                             # in s = 2d
        tables.append([f32(v * 2 ** j) for j, v in enumerate(m)])                   # in d
    worst = 0.0
    for i in range(1, 392001):
        x = f32(i * 1e-5)
        g = f32(x * 2 - 0.5)
        k = max(0, round(g))           # round half to even, as the kernel's 1.5 * 2^23 trick
        d = f32(g - k)
        p = tables[k][-1]
        for v in reversed(tables[k][:-1]): p = f32(p * d + v)
        y = f32(x * p) if k == 0 else p
        worst = max(worst, abs(y - math.erf(x)) / math.erf(x))
    print("max relative error on (0, 3.92), float32 arithmetic, fused:", worst)
    for j in range(8):
        print("C%d =" % j, ", ".join("%.9ef" % tables[k][j] for k in range(8)))
    sys.exit(0)

if "--table" in sys.argv:
    def r(t):
        return 2 / math.sqrt(math.pi) if t == 0 else math.erf(t) / t
    tables = []
    for k in range(16):
        m = cheb_to_monomial(cheb_fit(lambda d: r((k + 0.5 + d) / 4), -0.5, 0.5, 6))  # in s = 2d
        tables.append([f32(v * 2 ** j) for j, v in enumerate(m)])                   # in d
    worst = 0.0
    for i in range(1, 392001):
        x = f32(i * 1e-5)
        g = f32(x * 4 - 0.5)
        k = max(0, round(g))           # round half to even, as the kernel's 1.5 * 2^23 trick
        d = f32(g - k)
        p = tables[k][-1]
        for v in reversed(tables[k][:-1]): p = f32(p * d + v)
        worst = max(worst, abs(f32(x * p) - math.erf(x)) / math.erf(x))
    print("max relative error on (0, 3.92), float32 arithmetic, fused:", worst)
    for j in range(6):
        print("C%d =" % j, ", ".join("%.9ef" % tables[k][j] for k in range(16)))
    sys.exit(0)

if "--float" in sys.argv or "--float-split" in sys.argv:
    # --float-split: the same polynomials evaluated the way the generic (Vector128) kernel does: L's Horner chain split
    # into its even and odd coefficients, two half-length chains in u^2 joined by one last multiply-add (L(u) = E(u^2) +
    # u*O(u^2)), so the dependent chain is about half as long; P stays one chain (split, its worst error grows to
    # 1.63e-7, over the 1.5e-7 bound; L split in four chains of u^4 reaches 1.51e-7).
    split = "--float-split" in sys.argv
    P = cheb_to_monomial(cheb_fit(small, 0.0, 1.0, 7))      # in s = 2t - 1
    L = cheb_to_monomial(cheb_fit(math.erf, 1.0, 4.0, 15))  # in s = (2x - 5) / 3
    scale, shift = f32(2 / 3), f32(5 / 3)
    for fused in (True, False):
        fma = (lambda a, b, c: f32(a * b + c)) if fused else (lambda a, b, c: f32(f32(a * b) + c))
        def horner(m, s):
            acc = m[-1]
            for v in reversed(m[:-1]): acc = fma(acc, s, v)
            return acc
        def split2(m, s):
            s2 = f32(s * s)
            return fma(horner(m[1::2], s2), s, horner(m[0::2], s2))
        large_eval = split2 if split else horner
        worst = 0.0
        for i in range(1, 450001):
            x = f32(i * 1e-5)
            if x <= 1: y = f32(x * horner(P, fma(f32(x * x), 2.0, -1.0)))
            elif x >= 3.92: y = 1.0
            else: y = large_eval(L, fma(x, scale, -shift))
            worst = max(worst, abs(y - math.erf(x)) / math.erf(x))
        print("max relative error on (0, 4.5], float32 arithmetic%s, %s:" % (", L split in 2" if split else "", "fused" if fused else "unfused"), worst)
    print("P =", ", ".join("%.9ef" % c for c in P))
    print("L =", ", ".join("%.9ef" % c for c in L))
    sys.exit(0)

P = cheb_fit(small, 0.0, 1.0, 12)
R = cheb_fit(large, 1 / 6, 1.0, 18)

def erf_approx(x):
    ax = abs(x)
    if ax <= 1: return x * clenshaw(P, 0.0, 1.0, x * x)
    if ax >= 6: return math.copysign(1.0, x)
    return math.copysign(1 - math.exp(-ax * ax) * clenshaw(R, 1 / 6, 1.0, 1 / ax), x)

worst = 0.0
for i in range(1, 200001):
    x = i * 7.0 / 200000
    e = math.erf(x)
    worst = max(worst, abs(erf_approx(x) - e) / e)
print("P =", ", ".join(repr(c) for c in P))
print("R =", ", ".join(repr(c) for c in R))
print("max relative error on (0, 7]:", worst)
worst_c = 0.0
for i in range(0, 50001):
    x = 1 + i * 5.0 / 50000
    worst_c = max(worst_c, abs(math.exp(-x * x) * clenshaw(R, 1 / 6, 1.0, 1 / x) - math.erfc(x)) / math.erfc(x))
print("max relative error of erfc on [1, 6]:", worst_c)
