namespace Ember.Nn.Layers.Recurrent;

/// <summary>
/// What <see cref="RNNCell"/>, <see cref="LSTMCell"/> and <see cref="GRUCell"/> share (torch.nn.RNNCellBase): parameters
/// weight_ih [G·H, H_in], weight_hh [G·H, H], bias_ih [G·H], bias_hh [G·H] drawn from U(−1/√H, 1/√H), and the checks
/// of an input (N, H_in) or unbatched (H_in) and a state (N, H) or (H).
/// </summary>
public abstract class RNNCellBase : Module
{
    /// <summary>Features of the input (input_size).</summary>
    public int InputSize { get; }
    /// <summary>Features of the state (hidden_size).</summary>
    public int HiddenSize { get; }
    /// <summary>Whether the cell has bias_ih and bias_hh (bias).</summary>
    public bool Bias { get; }

    /// <summary>
    /// Refuses sizes whose stacked gate weight ([gates·hidden_size, widest]) would hold more values than a tensor can (or
    /// whose row count overflows int), before anything is allocated.
    /// </summary>
    internal static void CheckWeightFits(string module, int gates, int hiddenSize, long widest)
    {
        long rows = (long)gates * hiddenSize;
        if (rows > Array.MaxLength / widest) // not rows × widest: that product can overflow long
            throw new ArgumentException($"{module}: a gate weight of {rows}×{widest} values (gates × hidden_size {hiddenSize} by the widest input) is more than a CPU tensor can hold ({Array.MaxLength})");
    }

    private protected RNNCellBase(int inputSize, int hiddenSize, bool bias, int gates, Generator? generator)
    {
        string module = GetType().Name;
        if (inputSize <= 0) throw new ArgumentException($"{module}: input_size must be positive, got {inputSize}");
        if (hiddenSize <= 0) throw new ArgumentException($"{module}: hidden_size must be positive, got {hiddenSize}");
        CheckWeightFits(module, gates, hiddenSize, Math.Max(inputSize, hiddenSize));
        (InputSize, HiddenSize, Bias) = (inputSize, hiddenSize, bias);
        RegisterParameter("weight_ih", Torch.Empty([gates * hiddenSize, inputSize]));
        RegisterParameter("weight_hh", Torch.Empty([gates * hiddenSize, hiddenSize]));
        if (bias)
        {
            RegisterParameter("bias_ih", Torch.Empty([gates * hiddenSize]));
            RegisterParameter("bias_hh", Torch.Empty([gates * hiddenSize]));
        }
        else
        {
            RegisterParameter("bias_ih", (Parameter?)null);
            RegisterParameter("bias_hh", (Parameter?)null);
        }
        ResetParameters(generator);
    }

    /// <summary>Re-draws every parameter from U(−1/√hidden_size, 1/√hidden_size), as PyTorch's reset_parameters.</summary>
    public void ResetParameters(Generator? generator = null)
    {
        double bound = 1 / Math.Sqrt(HiddenSize);
        foreach (var p in Parameters(recurse: false)) Init.Uniform(p, -bound, bound, generator);
    }

    /// <summary>(weight_ih, weight_hh, bias_ih, bias_hh) as registered now (a parameter may have been replaced).</summary>
    private protected (Tensor WIh, Tensor WHh, Tensor? BIh, Tensor? BHh) Weights()
    {
        Tensor? wIh = null, wHh = null, bIh = null, bHh = null;
        foreach (var (name, p) in NamedParameters(recurse: false))
        {
            switch (name)
            {
                case "weight_ih": wIh = p; break;
                case "weight_hh": wHh = p; break;
                case "bias_ih": bIh = p; break;
                case "bias_hh": bHh = p; break;
            }
        }
        if (wIh is null || wHh is null) throw new InvalidOperationException($"{GetType().Name}: weight_ih or weight_hh is missing (set to null?)");
        return (wIh, wHh, bIh, bHh);
    }

    /// <summary>Checks the input and returns it as (N, H_in), with whether it was batched.</summary>
    private protected (Tensor Input, bool Batched) CheckInput(Tensor input)
    {
        string module = GetType().Name;
        if (input.Rank != 1 && input.Rank != 2)
            throw new ArgumentException($"{module}: expected input of 2 dimensions (N, H_in) or 1 for an unbatched input (H_in), got {input.Rank} (input shape {input.Shape})");
        if (input.Size(-1) != InputSize)
            throw new ArgumentException($"{module}: expected input with {InputSize} features in the last dimension (input_size), got {input.Size(-1)} (input shape {input.Shape})");
        return input.Rank == 1 ? (input.Unsqueeze(0), false) : (input, true);
    }

    /// <summary>The given state checked against (N, H) or unbatched (H), returned as (N, H); zeros when null.</summary>
    private protected Tensor State(string name, Tensor? state, Tensor input, bool batched)
    {
        int batch = input.Size(0);
        if (state is null) return Torch.Zeros([batch, HiddenSize], input.DType);
        int[] expected = batched ? [batch, HiddenSize] : [HiddenSize];
        if (!state.Shape.ToArray().AsSpan().SequenceEqual(expected))
            throw new ArgumentException($"{GetType().Name}: expected {name} of shape [{string.Join(", ", expected)}] ({(batched ? "batch, hidden_size" : "hidden_size, for an unbatched input")}), got {state.Shape}");
        return batched ? state : state.Unsqueeze(0);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr() => $"{InputSize}, {HiddenSize}{(Bias ? "" : ", bias=False")}";
}
