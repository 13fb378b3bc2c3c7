using Ember.Nn.Functional;
using Ember.Nn.Utils;
using Ember.Ops;

namespace Ember.Nn.Layers.Recurrent;

/// <summary>
/// What <see cref="RNN"/>, <see cref="LSTM"/> and <see cref="GRU"/> share (torch.nn.RNNBase): the stacked, optionally
/// bidirectional parameters named as PyTorch names them, so a PyTorch state_dict loads by name —
/// per layer k and direction (suffix "_reverse" for the backward one), in this order: weight_ih_lk [G·H, H_in]
/// (H_in = input_size for layer 0, else D·H_out), weight_hh_lk [G·H, H_out], bias_ih_lk [G·H], bias_hh_lk [G·H],
/// and for an LSTM with proj_size, weight_hr_lk [proj_size, H]; G = 1 (RNN), 4 (LSTM, gates i, f, g, o), 3 (GRU, r, z, n);
/// all drawn from U(−1/√H, 1/√H). Inputs are (L, N, H_in), (N, L, H_in) with batch_first, unbatched (L, H_in) or a
/// <see cref="PackedSequence"/>; the output is (L, N, D·H_out) and the final states (D·num_layers, N, H_out).
/// </summary>
public abstract class RNNBase : Module
{
    /// <summary>Features of each input step (input_size).</summary>
    public int InputSize { get; }
    /// <summary>Features of the hidden (and LSTM cell) state (hidden_size).</summary>
    public int HiddenSize { get; }
    /// <summary>Stacked layers (num_layers).</summary>
    public int NumLayers { get; }
    /// <summary>Whether the layers have bias_ih and bias_hh (bias).</summary>
    public bool Bias { get; }
    /// <summary>Whether inputs and outputs are (N, L, H) instead of (L, N, H) (batch_first; the states stay (D·num_layers, N, H)).</summary>
    public bool BatchFirst { get; }
    /// <summary>Dropout probability on the outputs of each layer but the last, in training only (dropout).</summary>
    public double Dropout { get; }
    /// <summary>Whether each layer also runs backwards in time, its output concatenated to the forward one (bidirectional).</summary>
    public bool Bidirectional { get; }
    /// <summary>LSTM only: the size the hidden state is projected to by weight_hr, 0 for none (proj_size).</summary>
    public int ProjSize { get; }

    private protected RecurrentMode Mode { get; }
    private protected int Directions => Bidirectional ? 2 : 1;
    /// <summary>H_out: proj_size when projecting, else hidden_size.</summary>
    private protected int OutputSize => ProjSize > 0 ? ProjSize : HiddenSize;

    readonly Generator? generator;
    readonly string[][] names;

    private protected RNNBase(RecurrentMode mode, int inputSize, int hiddenSize, int numLayers, bool bias, bool batchFirst,
        double dropout, bool bidirectional, int projSize, Generator? generator)
    {
        string module = GetType().Name;
        if (inputSize <= 0) throw new ArgumentException($"{module}: input_size must be positive, got {inputSize}");
        if (hiddenSize <= 0) throw new ArgumentException($"{module}: hidden_size must be positive, got {hiddenSize}");
        if (numLayers <= 0) throw new ArgumentException($"{module}: num_layers must be positive, got {numLayers}");
        if (!(dropout >= 0 && dropout <= 1)) throw new ArgumentException($"{module}: dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got {dropout}");
        if (projSize < 0) throw new ArgumentException($"{module}: proj_size should be a positive integer or zero to disable projections, got {projSize}");
        if (projSize >= hiddenSize) throw new ArgumentException($"{module}: proj_size has to be smaller than hidden_size, got proj_size={projSize} and hidden_size={hiddenSize}");
        RNNCellBase.CheckWeightFits(module, RecurrentOps.GateCount(mode), hiddenSize, Math.Max(inputSize, (long)hiddenSize * (bidirectional ? 2 : 1)));
        (Mode, InputSize, HiddenSize, NumLayers, Bias, BatchFirst, Dropout, Bidirectional, ProjSize) =
            (mode, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize);
        this.generator = generator;
        int gates = RecurrentOps.GateCount(mode) * hiddenSize;
        names = new string[numLayers * Directions][];
        for (int layer = 0; layer < numLayers; layer++)
        {
            for (int direction = 0; direction < Directions; direction++)
            {
                string suffix = $"_l{layer}{(direction == 1 ? "_reverse" : "")}";
                int layerInput = layer == 0 ? inputSize : OutputSize * Directions;
                var list = new List<string> { "weight_ih" + suffix, "weight_hh" + suffix };
                RegisterParameter(list[0], Torch.Empty([gates, layerInput]));
                RegisterParameter(list[1], Torch.Empty([gates, OutputSize]));
                if (bias)
                {
                    list.Add("bias_ih" + suffix); RegisterParameter(list[^1], Torch.Empty([gates]));
                    list.Add("bias_hh" + suffix); RegisterParameter(list[^1], Torch.Empty([gates]));
                }
                if (projSize > 0) { list.Add("weight_hr" + suffix); RegisterParameter(list[^1], Torch.Empty([projSize, hiddenSize])); }
                names[layer * Directions + direction] = [.. list];
            }
        }
        ResetParameters(generator);
    }

    /// <summary>Re-draws every parameter from U(−1/√hidden_size, 1/√hidden_size), as PyTorch's reset_parameters.</summary>
    public void ResetParameters(Generator? generator = null)
    {
        double bound = 1 / Math.Sqrt(HiddenSize);
        foreach (var p in Parameters(recurse: false)) Init.Uniform(p, -bound, bound, generator);
    }

    /// <summary>Runs a padded (or unbatched) input; <paramref name="cx"/> is used by the LSTM only.</summary>
    private protected (Tensor Output, Tensor HN, Tensor? CN) ForwardPadded(Tensor input, Tensor? hx, Tensor? cx)
    {
        string module = GetType().Name;
        if (input.Rank != 2 && input.Rank != 3)
            throw new ArgumentException($"{module}: expected input of 3 dimensions {(BatchFirst ? "(N, L, H_in)" : "(L, N, H_in)")} or 2 for an unbatched sequence (L, H_in), got {input.Rank} (input shape {input.Shape})");
        CheckFeatures(input, "input");
        bool batched = input.Rank == 3;
        var x = !batched ? input.Unsqueeze(1) : BatchFirst ? input.Transpose(0, 1) : input;
        int steps = x.Size(0), batch = x.Size(1);
        if (steps == 0 || batch == 0)
            throw new ArgumentException($"{module}: expected a non-empty sequence and batch, got input shape {input.Shape}");
        var h0 = InitialState("h_0", hx, batched, batch, OutputSize, input.DType);
        var c0 = Mode == RecurrentMode.Lstm ? InitialState("c_0", cx, batched, batch, HiddenSize, input.DType) : null;
        var sizes = new int[steps];
        Array.Fill(sizes, batch);
        var (output, hN, cN) = Run(x.Reshape(steps * batch, InputSize), sizes, h0, c0);
        var padded = output.Reshape(steps, batch, Directions * OutputSize);
        if (!batched) return (padded.Squeeze(1), hN.Squeeze(1), cN?.Squeeze(1));
        return (BatchFirst ? padded.Transpose(0, 1) : padded, hN, cN);
    }

    /// <summary>Runs a packed input: the states of the sorted batch are permuted like the sequences, and back.</summary>
    private protected (PackedSequence Output, Tensor HN, Tensor? CN) ForwardPacked(PackedSequence input, Tensor? hx, Tensor? cx)
    {
        string module = GetType().Name;
        if (input.Data.Rank != 2)
            throw new ArgumentException($"{module}: expected packed data of 2 dimensions (Σ lengths, H_in), got shape {input.Data.Shape}");
        CheckFeatures(input.Data, "packed data");
        int batch = input.BatchSize;
        var h0 = InitialState("h_0", hx, true, batch, OutputSize, input.Data.DType);
        var c0 = Mode == RecurrentMode.Lstm ? InitialState("c_0", cx, true, batch, HiddenSize, input.Data.DType) : null;
        if (input.SortedIndices is not null)
        {
            // the caller's states are in the original batch order; the packed rows are sorted by length
            if (hx is not null) h0 = h0.IndexSelect(1, input.SortedIndices);
            if (cx is not null) c0 = c0!.IndexSelect(1, input.SortedIndices);
        }
        var (output, hN, cN) = Run(input.Data, input.Sizes, h0, c0);
        if (input.UnsortedIndices is not null)
        {
            hN = hN.IndexSelect(1, input.UnsortedIndices);
            cN = cN?.IndexSelect(1, input.UnsortedIndices);
        }
        return (input.WithData(output), hN, cN);
    }

    void CheckFeatures(Tensor input, string what)
    {
        if (input.Size(-1) != InputSize)
            throw new ArgumentException($"{GetType().Name}: expected {what} with {InputSize} features in the last dimension (input_size), got {input.Size(-1)} ({what} shape {input.Shape})");
        var dtype = names.Length > 0 ? Parameters(recurse: false).First().DType : input.DType;
        if (input.DType != dtype)
            throw new ArgumentException($"{GetType().Name}: expected {what} of dtype {dtype.TorchName()} (the parameters' dtype), got {input.DType.TorchName()}");
    }

    /// <summary>The given state checked against (D·num_layers, N, size), or zeros; unbatched states are (D·num_layers, size).</summary>
    Tensor InitialState(string name, Tensor? state, bool batched, int batch, int size, DType dtype)
    {
        int layers = NumLayers * Directions;
        if (state is null) return Torch.Zeros([layers, batch, size], dtype);
        int[] expected = batched ? [layers, batch, size] : [layers, size];
        if (!state.Shape.ToArray().AsSpan().SequenceEqual(expected))
            throw new ArgumentException($"{GetType().Name}: expected {name} of shape [{string.Join(", ", expected)}] " +
                $"({(batched ? "num_layers·num_directions, batch, " : "num_layers·num_directions, ")}{(size == HiddenSize ? "hidden_size" : "proj_size")}{(batched ? "" : ", for an unbatched input")}), got {state.Shape}");
        if (state.DType != dtype)
            throw new ArgumentException($"{GetType().Name}: expected {name} of dtype {dtype.TorchName()} (the input's), got {state.DType.TorchName()}");
        return batched ? state : state.Unsqueeze(1);
    }

    /// <summary>All layers and directions over packed rows <paramref name="data"/> [T, H_in].</summary>
    (Tensor Output, Tensor HN, Tensor? CN) Run(Tensor data, int[] sizes, Tensor h0, Tensor? c0)
    {
        var p = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in NamedParameters(recurse: false)) p[name] = parameter;
        Tensor Get(string name) => p.TryGetValue(name, out var t) ? t
            : throw new InvalidOperationException($"{GetType().Name}: parameter {name} is missing (set to null?)");
        int gateCount = Bias ? 4 : 2;
        var hN = new Tensor[NumLayers * Directions];
        var cN = c0 is null ? null : new Tensor[hN.Length];
        var x = data;
        var outputs = new Tensor[Directions];
        for (int layer = 0; layer < NumLayers; layer++)
        {
            for (int direction = 0; direction < Directions; direction++)
            {
                int k = layer * Directions + direction;
                var n = names[k];
                var (output, h, c) = RecurrentOps.RunDirection(Mode, x, sizes, Get(n[0]), Get(n[1]),
                    Bias ? Get(n[2]) : null, Bias ? Get(n[3]) : null, ProjSize > 0 ? Get(n[gateCount]) : null,
                    h0.Select(0, k), c0?.Select(0, k), reverse: direction == 1);
                outputs[direction] = output;
                hN[k] = h;
                if (cN is not null) cN[k] = c!;
            }
            x = Directions == 1 ? outputs[0] : Torch.Cat(outputs, 1);
            if (Dropout > 0 && Training && layer < NumLayers - 1) x = F.Dropout(x, Dropout, true, generator);
        }
        return (x, Torch.Stack(hN), cN is null ? null : Torch.Stack(cN));
    }

    /// <inheritdoc/>
    protected override string ExtraRepr()
    {
        var s = $"{InputSize}, {HiddenSize}";
        if (ProjSize != 0) s += $", proj_size={ProjSize}";
        if (NumLayers != 1) s += $", num_layers={NumLayers}";
        if (!Bias) s += ", bias=False";
        if (BatchFirst) s += ", batch_first=True";
        if (Dropout != 0) s += $", dropout={PyRepr.Float(Dropout)}";
        if (Bidirectional) s += ", bidirectional=True";
        return s;
    }
}
