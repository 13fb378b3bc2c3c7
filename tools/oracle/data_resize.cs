// Reference values for tests/Ember.Tests/Data/TransformTests.cs (Resize / bilinear interpolation):
// F.interpolate(arange(12).reshape(1,1,3,4), size=(5,3), mode="bilinear", align_corners=False), float32 and float64.
using TorchSharp;
using static TorchSharp.torch;

foreach (var dt in new[] { ScalarType.Float32, ScalarType.Float64 })
{
    var x = arange(12, dtype: dt).reshape(1, 1, 3, 4);
    var y = nn.functional.interpolate(x, size: new long[] { 5, 3 }, mode: InterpolationMode.Bilinear, align_corners: false);
    Console.WriteLine(dt + ": " + string.Join(", ", y.to_type(ScalarType.Float64).data<double>().ToArray().Select(v => v.ToString("R"))));
}
