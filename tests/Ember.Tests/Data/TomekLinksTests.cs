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
}
