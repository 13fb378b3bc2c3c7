namespace Ember.Data.Imbalance;

/// <summary>
/// SMOTE (Chawla et al., 2002): synthesizes minority samples until every class has as many as the largest. Each new
/// sample picks a random sample x of its class, one of x's k nearest neighbours (Euclidean, same class) x̂, and a
/// uniform u ∈ [0, 1), and is x + u · (x̂ − x): a random point on the segment between them.
/// </summary>
public sealed class Smote(int k = 5)
{
    /// <summary>The number of nearest neighbours to choose from.</summary>
    public int K { get; } = k > 0 ? k : throw new ArgumentException($"SMOTE: k must be positive, got {k}");

    /// <summary>
    /// The original samples followed by the synthetic ones: features [N + S, D] (float32 or float64, as given) and int64
    /// labels [N + S]. A class with a single sample is only duplicated (it has no neighbour).
    /// </summary>
    public (Tensor Features, Tensor Labels) FitResample(Tensor features, Tensor labels, int numClasses, Generator generator)
    {
        var (x, y, _, d) = FeatureRows.Read("SMOTE", features, labels);
        var byClass = RandomUnderSampler.GroupByClass(y, numClasses);
        int target = byClass.Max(c => c.Count);
        var newX = new List<double>(x);
        var newY = new List<long>(y);
        for (int c = 0; c < numClasses; c++)
        {
            var members = byClass[c];
            int need = target - members.Count;
            if (members.Count == 0 || need <= 0) continue;
            var neighbours = NearestNeighbours(x, d, members, Math.Min(K, members.Count - 1));
            for (int s = 0; s < need; s++)
            {
                int a = (int)generator.NextInt64(members.Count);
                var nn = neighbours[a];
                int row = members[a];
                int other = nn.Length == 0 ? row : members[nn[(int)generator.NextInt64(nn.Length)]];
                double u = generator.NextDouble();
                for (int j = 0; j < d; j++) newX.Add(x[row * d + j] + u * (x[other * d + j] - x[row * d + j]));
                newY.Add(c);
            }
        }
        var resultX = Torch.FromArray(newX.ToArray(), [newY.Count, d]);
        return (features.DType == DType.Float64 ? resultX : resultX.To(features.DType), Torch.FromArray(newY.ToArray(), [newY.Count]));
    }

    /// <summary>For each member, the positions (within <paramref name="members"/>) of its k nearest other members.</summary>
    internal static int[][] NearestNeighbours(double[] x, int d, List<int> members, int k)
    {
        int m = members.Count;
        var result = new int[m][];
        var dist = new double[m];
        var order = new int[m];
        for (int a = 0; a < m; a++)
        {
            for (int b = 0; b < m; b++)
            {
                double s = 0;
                for (int j = 0; j < d; j++) { double t = x[members[a] * d + j] - x[members[b] * d + j]; s += t * t; }
                dist[b] = b == a ? double.PositiveInfinity : s;
                order[b] = b;
            }
            Array.Sort((double[])dist.Clone(), order);
            result[a] = order.Take(k).ToArray();
        }
        return result;
    }
}
