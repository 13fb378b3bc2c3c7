// Per-op overhead on 1-element tensors (issue 2: target <= 1 us). Run: cd tools/perf && dotnet run -c Release
using System.Diagnostics;
using Ember;
var a = Torch.Tensor(1f); var b = Torch.Tensor(2f);
var ga = Torch.Tensor(1f).RequiresGradInPlace(); var gb = Torch.Tensor(2f).RequiresGradInPlace();
void Measure(string name, Func<Tensor> f)
{
    for (int i = 0; i < 200000; i++) f();
    long alloc0 = GC.GetAllocatedBytesForCurrentThread();
    var sw = Stopwatch.StartNew();
    const int N = 1_000_000;
    for (int i = 0; i < N; i++) f();
    sw.Stop();
    long alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
    Console.WriteLine($"{name}: {sw.Elapsed.TotalNanoseconds / N:F0} ns/op, {alloc / N} B/op");
}
for (int r = 0; r < 2; r++)
{
    Measure("a + b (no grad)", () => a + b);
    Measure("a * 2.0 (no grad)", () => a * 2.0);
    Measure("a.Exp() (no grad)", () => a.Exp());
    Measure("a + b (recording)", () => ga + gb);
    using (Torch.NoGrad()) Measure("a + b (grad leaves, NoGrad)", () => ga + gb);
}
