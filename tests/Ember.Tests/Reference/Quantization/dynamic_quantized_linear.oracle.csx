// Reference values for Ember's dynamic int8 Linear (tests/Ember.Tests/Reference/dynamic_quantized_linear.json).
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;
torch.manual_seed(7);
int m = 5, k = 37, n = 19;
var x = torch.randn(m, k) * 1.7 + 0.3;
var w = torch.randn(n, k) * 0.2;
w[3] = w[3] * 0.001; // a channel of tiny weights
var b = torch.randn(n) * 0.1;
// PyTorch's per_channel_symmetric qint8 observer: scale = max(|min|, |max|) / 127.5, at least float32 eps
var amax = torch.maximum(w.amin(1).neg().clamp_min(0), w.amax(1).clamp_min(0));
var wScales = torch.maximum(amax / 127.5f, torch.tensor(1.1920929e-07f));
var wq = torch.quantize_per_channel(w, wScales.to(ScalarType.Float64), torch.zeros(n, ScalarType.Int64), 0, ScalarType.QInt8);
// activation parameters chosen by Ember's formula (fbgemm's ChooseQuantizationParams, reduce_range) for this x
float xmin = Math.Min(x.min().item<float>(), 0f), xmax = Math.Max(x.max().item<float>(), 0f);
double scale = ((double)xmax - xmin) / 127;
double fromMin = 0 - xmin / scale, fromMax = 127 - xmax / scale;
double initial = Math.Abs(0) - Math.Abs(xmin / scale) < Math.Abs(127) - Math.Abs(xmax / scale) ? fromMin : fromMax;
int zp = initial < 0 ? 0 : initial > 127 ? 127 : (int)Math.Round(initial, MidpointRounding.ToEven);
var xq = torch.quantize_per_tensor(x, (float)scale, zp, ScalarType.QUInt8);
var y = torch.nn.functional.linear(xq.dequantize().to(ScalarType.Float64), wq.dequantize().to(ScalarType.Float64), b.to(ScalarType.Float64));
var doc = new Dictionary<string, object>
{
    ["how"] = "TorchSharp 0.107 / libtorch 2.10 CPU, torch.manual_seed(7): quantize_per_channel (qint8, scales amax/127.5 as the per_channel_symmetric observer), quantize_per_tensor (quint8) with fbgemm's reduce_range parameters, output = F.linear of the dequantized tensors in float64",
    ["m"] = m, ["k"] = k, ["n"] = n,
    ["x"] = x.data<float>().ToArray(), ["w"] = w.data<float>().ToArray(), ["b"] = b.data<float>().ToArray(),
    ["w_scales"] = wScales.data<float>().ToArray(),
    ["w_int"] = wq.int_repr().to(ScalarType.Int32).data<int>().ToArray(),
    ["x_scale"] = (float)scale, ["x_zero_point"] = zp,
    ["x_int"] = xq.int_repr().to(ScalarType.Int32).data<int>().ToArray(),
    ["y"] = y.data<double>().ToArray(),
};
Console.WriteLine(JsonSerializer.Serialize(doc));
