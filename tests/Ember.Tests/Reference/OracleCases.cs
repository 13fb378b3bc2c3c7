using System.Reflection;

namespace Ember.Tests.Reference;

/// <summary>Runs named cases against <see cref="CoreOpsReference"/>: shape exactly, values within a tolerance.</summary>
internal static class OracleCases
{
    public static void Check(string name, Tensor actual, double rtol = 1e-5, double atol = 1e-6)
    {
        var type = typeof(CoreOpsReference);
        var values = (double[])type.GetField(name, BindingFlags.Static | BindingFlags.Public)!.GetValue(null)!;
        var shape = (int[])type.GetField(name + "Shape", BindingFlags.Static | BindingFlags.Public)!.GetValue(null)!;
        Assert.Equal(new Shape(shape), actual.Shape);
        TestUtil.Close(values, actual, rtol, atol);
    }

    public static TheoryData<string> Names(IReadOnlyDictionary<string, Func<Tensor>> cases)
    {
        var data = new TheoryData<string>();
        foreach (var name in cases.Keys) data.Add(name);
        return data;
    }
}
