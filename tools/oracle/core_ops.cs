// Reference values for the core ops (issue 2), float32, from libtorch 2.10 through TorchSharp.
// Run: TORCH_ORACLE_HOME=/root/.cache/torch-oracle-core /work/shared/tools/torch-oracle/run.sh tools/oracle/core_ops.cs \
//        > tests/Ember.Tests/Reference/CoreOpsReference.cs
// The inputs are built by the same formulas as in tests/Ember.Tests/Reference/CoreInputs.cs (bit-identical floats).
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

var ci = CultureInfo.InvariantCulture;
var lines = new List<string>();

Tensor F(float[] data, params long[] shape) => tensor(data).reshape(shape);
float[] Formula(int n, double a, double scale, double shift) => Enumerable.Range(0, n).Select(i => (float)(Math.Sin(i * a + 0.3) * scale + shift)).ToArray();

// --- inputs (keep in sync with CoreInputs.cs) ---
var A = F([0.5f, -1.2f, 2.0f, 0.3f, 1.5f, 0.7f, -0.4f, -2.2f, 0.1f, 1.1f, -0.9f, 0.8f], 3, 4);
var P = F([0.5f, 1.2f, 2.0f, 0.3f, 1.5f, 0.7f, 0.4f, 2.2f, 0.1f, 1.1f, 0.9f, 0.8f], 3, 4);
var Row = F([0.2f, -0.5f, 1.3f, 0.9f], 4);
var Col = F([1.5f, -0.5f, 2.0f], 3, 1);
var C = F(Formula(24, 1.3, 2.0, 0.0), 2, 3, 4);
var M45 = F(Formula(20, 0.7, 1.5, 0.1), 4, 5);
var D = F(Formula(40, 0.9, 1.2, -0.1), 2, 4, 5);
var R = F([-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 0.49f, -0.51f], 8);
var Big = F([30f, -30f, 0.5f, 25f, -0.2f, 1f], 6);
var V3 = F([0.3f, -1.1f, 0.8f], 3);
var Q = F(Formula(6, 0.5, 0.9, 0.2), 2, 3);
var E = F(Formula(60, 0.45, 1.0, 0.05), 3, 4, 5);

void Emit(string name, Tensor t)
{
    var v = t.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
    lines.Add($"    public static readonly double[] {name} = [{string.Join(", ", v.Select(x => double.IsNaN(x) ? "double.NaN" : double.IsPositiveInfinity(x) ? "double.PositiveInfinity" : double.IsNegativeInfinity(x) ? "double.NegativeInfinity" : x.ToString("G9", ci)))}];");
    lines.Add($"    public static readonly int[] {name}Shape = [{string.Join(", ", t.shape)}];");
}

// elementwise unary
Emit("Neg", A.neg()); Emit("Abs", A.abs()); Emit("Sign", A.sign()); Emit("Exp", A.exp()); Emit("Log", P.log());
Emit("Log1p", P.log1p()); Emit("Expm1", A.expm1()); Emit("Sqrt", P.sqrt()); Emit("Rsqrt", P.rsqrt()); Emit("Square", A.square());
Emit("Reciprocal", A.reciprocal()); Emit("Sin", C.sin()); Emit("Cos", C.cos()); Emit("Tanh", C.tanh()); Emit("Sigmoid", C.sigmoid());
Emit("Relu", A.relu()); Emit("Erf", C.erf()); Emit("Softplus", Big.softplus()); Emit("SoftplusBeta2Threshold1", nn.functional.softplus(A, 2, 1));
Emit("LogSigmoid", nn.functional.logsigmoid(Big)); Emit("Floor", R.floor()); Emit("Ceil", R.ceil()); Emit("Round", R.round()); Emit("Trunc", R.trunc());

// elementwise binary with broadcasting
Emit("AddRow", A + Row); Emit("AddRowAlpha", A.add(Row, 2.5)); Emit("SubCol", A - Col); Emit("MulRow", A * Row); Emit("DivCol", A / Col);
Emit("ColPlusRow", Col + Row.reshape(1, 4)); Emit("MulC_A", C * A); Emit("PowTensor", P.pow(Row)); Emit("PowScalar", P.pow(2.5)); Emit("PowCube", A.pow(3));
Emit("MaximumRow", A.maximum(Row)); Emit("MinimumCol", A.minimum(Col)); Emit("WhereA", where(A > 0, A, Row));
Emit("ClampScalar", A.clamp(-0.5, 0.8)); Emit("ClampMinOnly", A.clamp(min: 0.2));
var Lo = F([-1f, 0f, -0.5f], 3, 1); var Hi = F([0.5f, 1f, 0.2f, 2f], 4);
Emit("ClampTensor", A.clamp(Lo, Hi));
Emit("ScalarRsub", 1.0 - A); Emit("ScalarDiv", 2.0 / P);

// reductions
Emit("SumAll", C.sum()); Emit("Sum1", C.sum(1)); Emit("Sum02Keep", C.sum(new long[] { 0, 2 }, keepdim: true)); Emit("MeanLast", C.mean(new long[] { -1 }));
Emit("Mean01Keep", C.mean(new long[] { 0, 1 }, keepdim: true)); Emit("Var1", C.var(1)); Emit("Var02Biased", C.var(new long[] { 0, 2 }, unbiased: false));
Emit("Std2", C.std(2)); Emit("StdAll", C.std()); Emit("VarKeepCorr2", C.var(new long[] { 1 }, unbiased: false, keepdim: true) * 3.0 / 1.0);
Emit("MaxAll", C.max()); Emit("MinAll", C.min());
var mx = C.max(1); Emit("Max1Values", mx.values); Emit("Max1Indices", mx.indexes);
var mn = C.min(2, keepdim: true); Emit("Min2KeepValues", mn.values); Emit("Min2KeepIndices", mn.indexes);
Emit("ArgMaxAll", C.argmax()); Emit("ArgMax1", C.argmax(1)); Emit("ArgMin0Keep", C.argmin(0, keepdim: true));
Emit("LogSumExp1", C.logsumexp(1)); Emit("LogSumExp02", C.permute(1, 0, 2).reshape(3, 8).logsumexp(1));
Emit("Prod1", Q.prod(1)); Emit("ProdAll", Q.prod());
Emit("Norm1", linalg.vector_norm(C, 1)); Emit("Norm2", linalg.vector_norm(C, 2)); Emit("NormInf", linalg.vector_norm(C, double.PositiveInfinity));
Emit("Norm2Dim2", linalg.vector_norm(C, 2, new long[] { 2 })); Emit("Norm1Dim1Keep", linalg.vector_norm(C, 1, new long[] { 1 }, keepdim: true));
Emit("NormInfDim0", linalg.vector_norm(C, double.PositiveInfinity, new long[] { 0 }));
Emit("Amax02", C.amax(new long[] { 0, 2 }));
Emit("Softmax0", C.softmax(0)); Emit("Softmax1", C.softmax(1)); Emit("Softmax2", C.softmax(2));
Emit("LogSoftmax0", C.log_softmax(0)); Emit("LogSoftmax1", C.log_softmax(1)); Emit("LogSoftmax2", C.log_softmax(2));

// linear algebra
var M45b = M45.index_select(0, tensor(new long[] { 0, 1, 2 }));  // [3, 5]
Emit("Dot", Row.matmul(Row * 0.5f + 0.1f)); Emit("MatVec", A.matmul(Row)); Emit("VecMat", V3.matmul(A)); Emit("MatMat", A.matmul(M45));
Emit("BatchMat", C.matmul(M45)); Emit("MatBatch", A.matmul(D)); Emit("BatchBroadcast", C.reshape(2, 1, 3, 4).matmul(E));
Emit("BatchVec", C.matmul(Row)); Emit("VecBatch", V3.matmul(C));
Emit("Mm", A.mm(M45)); Emit("Bmm", C.bmm(D)); Emit("Outer", V3.outer(Row));
var bias = F([0.1f, -0.2f, 0.3f, 0.4f, -0.5f], 5);
Emit("AddMm", bias.addmm(A, M45, beta: 0.5f, alpha: 2f));

// joining and indexing
Emit("Cat1", cat(new[] { A, Col }, 1)); Emit("Stack1", stack(new[] { A, P }, 1));
var idx = tensor(new long[] { 0, 3, 1, 2, 2, 0 }).reshape(3, 2);
Emit("Gather1", A.gather(1, idx));
var idx0 = tensor(new long[] { 2, 0, 1, 1, 0, 2, 2, 1 }).reshape(2, 4);
Emit("Gather0", A.gather(0, idx0));
var srcS = F(Formula(15, 0.4, 1.0, 0.5), 3, 5);
Emit("Scatter1", zeros(3, 4).scatter(1, idx, srcS));
Emit("ScatterValue", A.scatter(1, idx, full(new long[] { 3, 2 }, 7f)));
var dupIdx = tensor(new long[] { 1, 1, 3, 0, 0, 0 }).reshape(3, 2);
Emit("ScatterAdd1", A.scatter_add(1, dupIdx, srcS));
Emit("IndexSelect0", A.index_select(0, tensor(new long[] { 2, 0, 2 })));
Emit("IndexSelect1", C.index_select(1, tensor(new long[] { 1, 1, 0 })));
Emit("MaskedFill", A.masked_fill(A < 0, -9.0)); Emit("MaskedFillRow", A.masked_fill(Row > 0, 3.5));
Emit("MaskedSelect", A.masked_select(A > 0.4)); Emit("MaskedSelectBroadcast", A.masked_select((Row > 0)));
Emit("OneHot", nn.functional.one_hot(tensor(new long[] { 0, 3, 1, 1 }), 5));
var tk = A.topk(2, 1); Emit("TopK1Values", tk.values); Emit("TopK1Indices", tk.indexes);
var tks = A.topk(2, 0, largest: false); Emit("TopK0SmallValues", tks.values); Emit("TopK0SmallIndices", tks.indexes);
var so = C.sort(1, descending: true); Emit("Sort1DescValues", so.Values); Emit("Sort1DescIndices", so.Indices);
var so2 = A.sort(-1); Emit("SortLastValues", so2.Values); Emit("SortLastIndices", so2.Indices);
Emit("ArgSort0", A.argsort(0));
Emit("Nonzero", F([0f, 1.5f, 0f, -2f, 0f, 3f], 2, 3).nonzero());
Emit("Tril", A.tril()); Emit("TrilM1", A.tril(-1)); Emit("Triu1", A.triu(1)); Emit("TriuBatch", C.triu(-1));
Emit("Repeat", Q.repeat(2, 1, 3)); Emit("Flip0", A.flip(0)); Emit("Flip01", C.flip(0, 2));
Emit("Roll1", A.roll(1, 1)); Emit("RollNeg", A.roll(-2, 0)); Emit("RollFlat", A.roll(5)); Emit("Roll2D", C.roll(new long[] { 1, -1 }, new long[] { 0, 2 }));
var x3 = C[0].unsqueeze(0); // [1, 3, 4]
Emit("PadConstant", nn.functional.pad(x3, new long[] { 1, 2 }, PaddingModes.Constant, 0.5));
Emit("PadConstant2D", nn.functional.pad(x3, new long[] { 1, 0, 2, 1 }, PaddingModes.Constant, -1));
Emit("PadReflect", nn.functional.pad(x3, new long[] { 2, 3 }, PaddingModes.Reflect));
Emit("PadReplicate", nn.functional.pad(x3, new long[] { 2, 1 }, PaddingModes.Replicate));
Emit("PadReflect2D", nn.functional.pad(x3.unsqueeze(0), new long[] { 1, 2, 2, 1 }, PaddingModes.Reflect));
Emit("PadReplicate2D", nn.functional.pad(x3.unsqueeze(0), new long[] { 2, 0, 1, 2 }, PaddingModes.Replicate));
Emit("PadNegative", nn.functional.pad(x3, new long[] { -1, 1 }, PaddingModes.Constant, 0));

// factories
Emit("ArangeFloat", arange(0.5, 2.0, 0.3)); Emit("ArangeNegStep", arange(5.0, -1.0, -1.5)); Emit("ArangeIntNeg", arange(10, 0, -3));
Emit("Linspace", linspace(-1, 2, 7)); Emit("Linspace2", linspace(0, 1, 10));
Emit("ToLong", F([1.7f, -1.7f, 2.5f, -0.2f], 4).to_type(ScalarType.Int64));

Console.WriteLine("// Generated by tools/oracle/core_ops.cs (libtorch 2.10 via TorchSharp, float32 forward values). Do not edit.");
Console.WriteLine("namespace Ember.Tests.Reference;");
Console.WriteLine();
Console.WriteLine("internal static class CoreOpsReference");
Console.WriteLine("{");
foreach (var l in lines) Console.WriteLine(l);
Console.WriteLine("}");
