using Ember.Ops;

namespace Ember.Nn.Functional;

public static partial class F
{
    /// <summary>
    /// One Elman step (torch.rnn_tanh_cell): h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh). x: [N, H_in], h: [N, H] → [N, H].
    /// </summary>
    public static Tensor RnnTanhCell(Tensor input, Tensor hx, Tensor weightIh, Tensor weightHh, Tensor? biasIh = null, Tensor? biasHh = null)
        => (Linear(input, weightIh, biasIh) + Linear(hx, weightHh, biasHh)).Tanh();

    /// <summary>One Elman step with ReLU (torch.rnn_relu_cell): h' = relu(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh).</summary>
    public static Tensor RnnReluCell(Tensor input, Tensor hx, Tensor weightIh, Tensor weightHh, Tensor? biasIh = null, Tensor? biasHh = null)
        => (Linear(input, weightIh, biasIh) + Linear(hx, weightHh, biasHh)).Relu();

    /// <summary>
    /// One LSTM step (torch.lstm_cell). Gates x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh = [i, f, g, o] (each [N, H]);
    /// c' = σ(f)⊙c + σ(i)⊙tanh(g), h' = σ(o)⊙tanh(c'). W_ih: [4H, H_in], W_hh: [4H, H].
    /// </summary>
    public static (Tensor H, Tensor C) LstmCell(Tensor input, Tensor hx, Tensor cx, Tensor weightIh, Tensor weightHh, Tensor? biasIh = null, Tensor? biasHh = null)
        => RecurrentOps.LstmGates(Linear(input, weightIh, biasIh) + Linear(hx, weightHh, biasHh), cx);

    /// <summary>
    /// One GRU step (torch.gru_cell). With [r, z, n] gates: r = σ(W_ir·x + b_ir + W_hr·h + b_hr), z likewise,
    /// n = tanh(W_in·x + b_in + r⊙(W_hn·h + b_hn)), h' = (1 − z)⊙n + z⊙h. W_ih: [3H, H_in], W_hh: [3H, H].
    /// </summary>
    public static Tensor GruCell(Tensor input, Tensor hx, Tensor weightIh, Tensor weightHh, Tensor? biasIh = null, Tensor? biasHh = null)
        => RecurrentOps.GruGates(Linear(input, weightIh, biasIh), Linear(hx, weightHh, biasHh), hx);
}
