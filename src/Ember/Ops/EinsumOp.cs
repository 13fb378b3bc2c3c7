namespace Ember.Ops;

/// <summary>
/// torch.einsum by contraction: labels found in one operand only (and not wanted) are summed first, then operands are
/// contracted left to right, each pair as one batched matrix product — A permuted to [batch, left, contracted] and B to
/// [batch, contracted, right] — so every contraction runs on the GEMM. Gradients come from permute, reshape, sum and
/// bmm. Supports "...", implicit output (the labels used once, sorted), size-1 broadcasting and a label repeated within
/// one operand ("ii->i", "bii->bi", "iij->j"), which first takes that operand's diagonal as a view (so its gradient is
/// the diagonal's backward).
/// </summary>
internal static class EinsumOp
{
    const string Op = "einsum";

    public static Tensor Einsum(string equation, Tensor[] operands)
    {
        if (operands.Length == 0) throw new ArgumentException($"{Op}: must provide at least one operand");
        var eq = equation.Replace(" ", "");
        int arrow = eq.IndexOf("->", StringComparison.Ordinal);
        var lhs = arrow < 0 ? eq : eq[..arrow];
        var terms = lhs.Split(',');
        if (terms.Length != operands.Length)
            throw new ArgumentException($"{Op}: {terms.Length} subscript terms in \"{equation}\" for {operands.Length} operands");
        int ellipsisRank = 0;
        var raw = new List<char>[terms.Length];
        for (int k = 0; k < terms.Length; k++)
        {
            raw[k] = Parse(terms[k], equation);
            int letters = raw[k].Count(c => c != '.');
            bool hasEllipsis = raw[k].Contains('.');
            if (hasEllipsis ? operands[k].Rank < letters : operands[k].Rank != letters)
                throw new ArgumentException($"{Op}: the subscripts \"{terms[k]}\" of operand {k} do not match its {operands[k].Rank} dimensions (shape {operands[k].Shape})");
            if (hasEllipsis) ellipsisRank = Math.Max(ellipsisRank, operands[k].Rank - letters);
        }
        operands = (Tensor[])operands.Clone();
        // "..." becomes labels E0..En-1 (chars after 'z' are never letters), right-aligned across operands as broadcasting is
        var labels = new List<char>[terms.Length];
        for (int k = 0; k < terms.Length; k++)
        {
            labels[k] = [];
            int own = operands[k].Rank - raw[k].Count(c => c != '.');
            foreach (var c in raw[k])
                if (c == '.') for (int e = ellipsisRank - own; e < ellipsisRank; e++) labels[k].Add(EllipsisLabel(e));
                else labels[k].Add(c);
            (operands[k], labels[k]) = Diagonals(operands[k], labels[k], k, equation);
        }
        List<char> output;
        if (arrow >= 0)
        {
            var rhs = Parse(eq[(arrow + 2)..], equation);
            output = [];
            foreach (var c in rhs)
                if (c == '.') for (int e = 0; e < ellipsisRank; e++) output.Add(EllipsisLabel(e));
                else
                {
                    if (!labels.Any(l => l.Contains(c))) throw new ArgumentException($"{Op}: output subscript '{c}' in \"{equation}\" does not appear in the inputs");
                    if (output.Contains(c)) throw new ArgumentException($"{Op}: output subscript '{c}' appears more than once in \"{equation}\"");
                    output.Add(c);
                }
        }
        else
        {
            output = [];
            for (int e = 0; e < ellipsisRank; e++) output.Add(EllipsisLabel(e));
            var counts = new SortedDictionary<char, int>();
            // counted in the written terms, so a repeated label ("ii", the trace) is summed as numpy and PyTorch do
            foreach (var l in raw) foreach (var c in l) if (c != '.') counts[c] = counts.GetValueOrDefault(c) + 1;
            foreach (var (c, n) in counts) if (n == 1) output.Add(c);
        }
        // sizes, with size-1 dims broadcast by expanding
        var sizes = new Dictionary<char, int>();
        for (int k = 0; k < operands.Length; k++)
            for (int i = 0; i < labels[k].Count; i++)
            {
                int s = operands[k].shape[i];
                if (!sizes.TryGetValue(labels[k][i], out int have) || have == 1) sizes[labels[k][i]] = s;
                else if (s != have && s != 1)
                    throw new ArgumentException($"{Op}: subscript '{Show(labels[k][i])}' has size {s} in operand {k} but {have} elsewhere (\"{equation}\")");
            }
        var current = Prepare(operands[0], labels[0], sizes, 0);
        var currentLabels = labels[0];
        for (int k = 1; k < operands.Length; k++)
        {
            var keep = new HashSet<char>(output);
            for (int j = k + 1; j < operands.Length; j++) keep.UnionWith(labels[j]);
            (current, currentLabels) = Pair(current, currentLabels, Prepare(operands[k], labels[k], sizes, k), labels[k], keep);
        }
        (current, currentLabels) = SumOut(current, currentLabels, new HashSet<char>(output));
        var perm = output.Select(c => currentLabels.IndexOf(c)).ToArray();
        return perm.Length == 0 ? current : current.Permute(perm);
    }

    static char EllipsisLabel(int e) => (char)('z' + 1 + e);
    static string Show(char c) => c > 'z' ? "..." : c.ToString();

    static List<char> Parse(string term, string equation)
    {
        var result = new List<char>();
        for (int i = 0; i < term.Length; i++)
        {
            char c = term[i];
            if (c == '.')
            {
                if (term.Substring(i, Math.Min(3, term.Length - i)) != "..." || result.Contains('.'))
                    throw new ArgumentException($"{Op}: invalid ellipsis in \"{equation}\" (at most one \"...\" per term)");
                result.Add('.');
                i += 2;
            }
            else if (char.IsAsciiLetter(c)) result.Add(c);
            else throw new ArgumentException($"{Op}: invalid subscript '{c}' in \"{equation}\": subscripts are letters a-z, A-Z");
        }
        return result;
    }

    // a label repeated within one operand takes the diagonal of its two dims (appended last, as torch.diagonal does) until none repeats
    static (Tensor, List<char>) Diagonals(Tensor x, List<char> labels, int k, string equation)
    {
        for (int i = 0; i < labels.Count; i++)
        {
            int j = labels.IndexOf(labels[i], i + 1);
            if (j < 0) continue;
            if (x.shape[i] != x.shape[j])
                throw new ArgumentException($"{Op}: subscript '{labels[i]}' is repeated for operand {k} but the sizes don't match, {x.shape[i]} != {x.shape[j]} (\"{equation}\", shape {x.Shape})");
            char c = labels[i];
            x = x.Diagonal(0, i, j);
            labels = [.. labels];
            labels.RemoveAt(j);
            labels.RemoveAt(i);
            labels.Add(c);
            i = -1;
        }
        return (x, labels);
    }

    static Tensor Prepare(Tensor x, List<char> labels, Dictionary<char, int> sizes, int k)
    {
        var target = labels.Select(c => sizes[c]).ToArray();
        return x.shape.AsSpan().SequenceEqual(target) ? x : x.Expand(target);
    }

    // sums the dims whose labels are not in keep
    static (Tensor, List<char>) SumOut(Tensor x, List<char> labels, HashSet<char> keep)
    {
        var drop = new List<int>();
        for (int i = 0; i < labels.Count; i++) if (!keep.Contains(labels[i])) drop.Add(i);
        if (drop.Count == 0) return (x, labels);
        return (x.Sum(drop.ToArray()), labels.Where(c => keep.Contains(c)).ToList());
    }

    static (Tensor, List<char>) Pair(Tensor a, List<char> la, Tensor b, List<char> lb, HashSet<char> keep)
    {
        // labels one side has alone and nobody needs are summed away before the product
        (a, la) = SumOut(a, la, new HashSet<char>(keep.Concat(lb)));
        (b, lb) = SumOut(b, lb, new HashSet<char>(keep.Concat(la)));
        var batch = la.Where(c => lb.Contains(c) && keep.Contains(c)).ToList();
        var contracted = la.Where(c => lb.Contains(c) && !keep.Contains(c)).ToList();
        var left = la.Where(c => !lb.Contains(c)).ToList();
        var right = lb.Where(c => !la.Contains(c)).ToList();
        int Size(Tensor t, List<char> l, List<char> group) { int s = 1; foreach (var c in group) s *= t.shape[l.IndexOf(c)]; return s; }
        int nb = Size(a, la, batch), nl = Size(a, la, left), nc = Size(a, la, contracted), nr = Size(b, lb, right);
        var pa = a.Permute([.. batch.Select(c => la.IndexOf(c)), .. left.Select(c => la.IndexOf(c)), .. contracted.Select(c => la.IndexOf(c))]).Reshape(nb, nl, nc);
        var pb = b.Permute([.. batch.Select(c => lb.IndexOf(c)), .. contracted.Select(c => lb.IndexOf(c)), .. right.Select(c => lb.IndexOf(c))]).Reshape(nb, nc, nr);
        var product = pa.Bmm(pb);
        int[] shape = [.. batch.Select(c => a.shape[la.IndexOf(c)]), .. left.Select(c => a.shape[la.IndexOf(c)]), .. right.Select(c => b.shape[lb.IndexOf(c)])];
        return (product.Reshape(shape), [.. batch, .. left, .. right]);
    }
}
