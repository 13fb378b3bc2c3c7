using Ember.Data.Imbalance;

namespace Ember.Tests.Data;

/// <summary>Tomek links on a hand-made 2-D set whose links are known by construction.</summary>
public class TomekLinksTests
{
    // Class 0: a unit square (rows 0–3), one stray point next to class 1 (row 4) and one next to class 2 (row 5).
    // Class 1 (the minority, 3 samples): rows 6–8. Class 2: a column of points (rows 9–14) ending next to row 5.
    // Mutual nearest neighbours across classes: (4, 6) at distance 0.1 and (5, 14) at distance 0.1; every other mutual pair
    // is within one class.
    static readonly double[,] Points =
    {
        { 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 }, { 2.9, 0.5 }, { 10, 6.9 },
        { 3.0, 0.5 }, { 5, 0 }, { 5, 1 },
        { 10, 2 }, { 10, 3 }, { 10, 4 }, { 10, 5 }, { 10, 6 }, { 10, 7 },
    };
    static readonly long[] Classes = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2];

    static Tensor Features() => Torch.FromArray(Points.Cast<double>().ToArray(), [Classes.Length, 2]);
    static Tensor Labels() => Torch.FromArray(Classes, [Classes.Length]);

    [Fact]
    public void FindsExactlyTheCrossClassMutualNearestPairs()
    {
        Assert.Equal([(4, 6), (5, 14)], TomekLinks.Find(Features(), Labels()));
    }

    [Fact]
    public void DefaultRemovesTheMembersOutsideTheMinority()
    {
        // Link (4, 6): 6 is in the minority class 1 and stays. Link (5, 14): neither is minority, both go.
        var kept = new TomekLinks().Resample(Features(), Labels(), numClasses: 3);
        Assert.Equal(Enumerable.Range(0, 15).Except([4, 5, 14]), kept);
    }

    [Fact]
    public void BothRemovesEveryMemberAndFitResampleReturnsTheRows()
    {
        var (x, y) = new TomekLinks(TomekRemoval.Both).FitResample(Features(), Labels(), numClasses: 3);
        var expected = Enumerable.Range(0, 15).Except([4, 5, 6, 14]).ToArray();
        Assert.Equal(expected.Select(i => Classes[i]), y.ToArray<long>());
        Assert.Equal(expected.SelectMany(i => new[] { Points[i, 0], Points[i, 1] }), x.ToArray<double>());
    }

    [Fact]
    public void SmoteTomekBalancesThenCleansTheLinksSmoteLeft()
    {
        var smoted = new Smote(k: 2).FitResample(Features(), Labels(), 3, new Generator(7));
        var links = TomekLinks.Find(smoted.Features, smoted.Labels);
        Assert.NotEmpty(links); // the stray points' links survive SMOTE
        var (x, y) = new SmoteTomek(k: 2).FitResample(Features(), Labels(), 3, new Generator(7));
        var removed = links.SelectMany(l => new[] { l.First, l.Second }).Distinct().Count();
        Assert.Equal(smoted.Labels.Size(0) - removed, y.Size(0));
        Assert.Equal(y.Size(0), x.Size(0));
    }

    [Fact]
    public void BadInputNamesTheResampler()
    {
        var e = Assert.Throws<ArgumentException>(() => TomekLinks.Find(Torch.Zeros([15]), Labels()));
        Assert.Contains("TomekLinks", e.Message);
        Assert.Contains("[N, D]", e.Message);
        e = Assert.Throws<ArgumentException>(() => TomekLinks.Find(Torch.Zeros([4, 2]), Labels()));
        Assert.Contains("4 feature rows but 15 labels", e.Message);
    }

    // The brute-force search the GEMM one must equal: every pair's Σ (aⱼ − bⱼ)² in float64, ties to the lower index.
    static int[] BruteForceNearest(double[] x, int n, int d)
    {
        var nearest = new int[n];
        for (int a = 0; a < n; a++)
        {
            double best = double.PositiveInfinity;
            int arg = -1;
            for (int b = 0; b < n; b++)
            {
                if (b == a) continue;
                double s = 0;
                for (int j = 0; j < d; j++) { double t = x[a * d + j] - x[b * d + j]; s += t * t; }
                if (s < best) (best, arg) = (s, b);
            }
            nearest[a] = arg;
        }
        return nearest;
    }

    public static TheoryData<string, int, int> RandomSets => new()
    {
        { "gaussian", 300, 20 },
        { "grid", 400, 3 },        // coordinates in {0, 1, 2}: duplicates and many exact ties
        { "far", 300, 10 },        // 1000 + tiny noise: ‖a‖² + ‖b‖² − 2a·b cancels almost every digit
        { "pixels", 200, 784 },    // float32 pixel-like values in [0, 1], as Fashion-MNIST's
        { "blocks", 4500, 2 },     // more rows than one GEMM block holds
    };

    [Theory]
    [MemberData(nameof(RandomSets))]
    public void GemmNeighboursEqualTheBruteForceOnes(string kind, int n, int d)
    {
        var random = new Random(kind.Length * 7919 + n);
        var x = new double[n * d];
        for (int i = 0; i < x.Length; i++)
            x[i] = kind switch
            {
                "grid" => random.Next(3),
                "far" => 1000 + 1e-3 * random.NextDouble(),
                "pixels" => (float)random.NextDouble(),
                _ => random.NextDouble() * 2 - 1,
            };
        Assert.Equal(BruteForceNearest(x, n, d), NearestNeighbour.Find(x, n, d));
    }

    [Fact]
    public void GemmNeighboursEqualTheBruteForceOnesOnTheHandMadeSet()
    {
        var x = Points.Cast<double>().ToArray();
        var nearest = NearestNeighbour.Find(x, Classes.Length, 2);
        Assert.Equal(BruteForceNearest(x, Classes.Length, 2), nearest);
        Assert.Equal((6, 4, 14, 5), (nearest[4], nearest[6], nearest[5], nearest[14])); // the two links' mutual pairs
    }

    [Fact]
    public void ANearTieInFloat32IsDecidedByTheExactDistance()
    {
        // From row 0 (at 0), row 1 (at 1 + 1e-12) and row 2 (at −1) are equally far in float32, so an estimate-only search
        // would keep the lower index 1; in float64 row 2 is nearer. Row 3 (at 1 + 2e-12) makes row 1 a mutual pair elsewhere.
        double[] x = [0, 1 + 1e-12, -1, 1 + 2e-12];
        Assert.Equal(BruteForceNearest(x, 4, 1), NearestNeighbour.Find(x, 4, 1));
        Assert.Equal(2, NearestNeighbour.Find(x, 4, 1)[0]);
    }

    [Fact]
    public void DegenerateSizesMatchTheBruteForce()
    {
        Assert.Equal([-1], NearestNeighbour.Find([3.0], 1, 1));
        Assert.Equal([1, 0, 0], NearestNeighbour.Find([], 3, 0));
        Assert.Empty(NearestNeighbour.Find([], 0, 4));
    }
}
