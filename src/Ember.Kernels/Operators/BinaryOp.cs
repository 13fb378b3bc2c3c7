namespace Ember.Kernels.Operators;

/// <summary>The elementwise binary primitives every backend implements.</summary>
public enum BinaryOp { Add, Sub, Mul, Div, Pow, Maximum, Minimum }
