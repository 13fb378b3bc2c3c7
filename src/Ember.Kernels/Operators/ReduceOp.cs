namespace Ember.Kernels.Operators;

/// <summary>Reductions along one axis of an [outer, reduced, inner] block.</summary>
public enum ReduceOp { Sum, Prod, Max, Min }
