namespace Ember.Tests.Tensors;

/// <summary>Generator: reproducibility, state round trips and the distributions built on it.</summary>
public class GeneratorTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Uniform_gives_the_bits_of_rand_scaled_and_shifted(DType dtype)
    {
        // torch.empty(n).uniform_(a, b) draws rand·(b − a) + a in the tensor's precision; the one-pass version must agree.
        var direct = Torch.Uniform(-0.3, 0.7, [1001], dtype, new Generator(5));
        var composed = Torch.Rand([1001], dtype, new Generator(5)) * (0.7 - -0.3) + -0.3;
        Assert.Equal(composed.ToDoubleArray(), direct.ToDoubleArray());
    }

    [Fact]
    public void Same_seed_same_sequence_different_seeds_differ()
    {
        var a = Torch.Randn([100], DType.Float64, new Generator(42)).ToArray<double>();
        var b = Torch.Randn([100], DType.Float64, new Generator(42)).ToArray<double>();
        var c = Torch.Randn([100], DType.Float64, new Generator(43)).ToArray<double>();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Torch.ManualSeed(5);
        var d = Torch.Rand(10).ToArray<float>();
        Torch.ManualSeed(5);
        Assert.Equal(d, Torch.Rand(10).ToArray<float>());
        Assert.Equal(5, Generator.Default.InitialSeed);
    }

    [Fact]
    public void Numbers_do_not_depend_on_the_thread_count()
    {
        int saved = Torch.NumThreads;
        try
        {
            Torch.NumThreads = 1;
            var one = Torch.Randn([200000], DType.Float32, new Generator(3)).Sum().Item();
            Torch.NumThreads = 2;
            var two = Torch.Randn([200000], DType.Float32, new Generator(3)).Sum().Item();
            Assert.Equal(one, two);
        }
        finally { Torch.NumThreads = saved; }
    }

    [Fact]
    public void GetState_SetState_round_trip_including_the_cached_normal()
    {
        var g = new Generator(11);
        g.NextNormal();                         // leaves a spare normal cached
        var state = g.GetState();
        var first = Enumerable.Range(0, 5).Select(_ => g.NextNormal()).Concat([g.NextDouble()]).ToArray();
        g.SetState(state);
        var again = Enumerable.Range(0, 5).Select(_ => g.NextNormal()).Concat([g.NextDouble()]).ToArray();
        Assert.Equal(first, again);
        var other = new Generator(0);
        other.SetState(state);
        Assert.Equal(first[0], other.NextNormal());
        Assert.Throws<ArgumentException>(() => g.SetState(state with { Words = [1, 2] }));
    }

    [Fact]
    public void Randn_has_mean_zero_and_std_one()
    {
        var x = Torch.Randn([100000], DType.Float64, new Generator(9));
        Assert.InRange(x.Mean().Item(), -0.015, 0.015);
        Assert.InRange(x.Std().Item(), 0.99, 1.01);
        // about 68.3% within one sigma
        double within = (x.Abs() < 1.0).To(DType.Float64).Mean().Item();
        Assert.InRange(within, 0.677, 0.689);
    }

    [Fact]
    public void Rand_is_uniform()
    {
        var x = Torch.Rand([100000], DType.Float64, new Generator(10));
        Assert.InRange(x.Mean().Item(), 0.495, 0.505);
        Assert.InRange(x.Var().Item(), 1.0 / 12 - 0.002, 1.0 / 12 + 0.002);
        Assert.InRange(x.Min().Item(), 0, 0.001);
    }

    [Fact]
    public void Bernoulli_frequency_and_dtype()
    {
        var p = Torch.Full([20000], 0.3, DType.Float64);
        var s = Torch.Bernoulli(p, new Generator(4));
        Assert.Equal(DType.Float64, s.DType);
        Assert.All(s.ToArray<double>(), v => Assert.True(v is 0 or 1));
        Assert.InRange(s.Mean().Item(), 0.29, 0.31);
        Assert.Equal([0.0, 1.0], Torch.Bernoulli(Torch.Tensor(0.0, 1.0)).ToArray<double>());
    }

    [Fact]
    public void Multinomial_with_and_without_replacement()
    {
        var g = new Generator(8);
        var w = Torch.Tensor(1f, 0f, 3f);
        var draws = Torch.Multinomial(w, 20000, replacement: true, generator: g).ToArray<long>();
        Assert.DoesNotContain(1L, draws);
        double frac2 = draws.Count(v => v == 2) / 20000.0;
        Assert.InRange(frac2, 0.74, 0.76);
        var rows = Torch.Multinomial(Torch.Ones(5, 6), 6, replacement: false, generator: g);
        Assert.Equal(new Shape(5, 6), rows.Shape);
        for (int r = 0; r < 5; r++) Assert.Equal([0L, 1, 2, 3, 4, 5], rows[r].ToArray<long>().Order());
        Assert.Throws<ArgumentException>(() => Torch.Multinomial(w, 3, replacement: false, generator: g)); // only 2 non-zero weights
        Assert.Throws<ArgumentException>(() => Torch.Multinomial(w, 4));
        Assert.Throws<ArgumentException>(() => Torch.Multinomial(Torch.Tensor(1f, -1f), 1));
    }

    [Fact]
    public void Randperm_is_a_permutation_and_reproducible()
    {
        var p = Torch.Randperm(1000, new Generator(2)).ToArray<long>();
        Assert.Equal(Enumerable.Range(0, 1000).Select(v => (long)v), p.Order());
        Assert.Equal(p, Torch.Randperm(1000, new Generator(2)).ToArray<long>());
        Assert.Empty(Torch.Randperm(0).ToArray<long>());
    }

    [Fact]
    public void NextInt64_is_unbiased_over_a_small_range()
    {
        var g = new Generator(12);
        var counts = new int[3];
        for (int i = 0; i < 30000; i++) counts[g.NextInt64(3)]++;
        Assert.All(counts, c => Assert.InRange(c, 9700, 10300));
        Assert.Throws<ArgumentOutOfRangeException>(() => g.NextInt64(0));
    }
}
