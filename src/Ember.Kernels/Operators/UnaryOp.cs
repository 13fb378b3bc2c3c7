namespace Ember.Kernels.Operators;

/// <summary>The elementwise unary primitives every backend implements. Everything else is composed from these.</summary>
public enum UnaryOp
{
    Neg, Abs, Sign, Exp, Log, Log1p, Expm1, Sqrt, Rsqrt, Square, Reciprocal,
    Sin, Cos, Tanh, Sigmoid, Relu, Erf, Floor, Ceil, Round, Trunc,
}
