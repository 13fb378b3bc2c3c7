namespace Ember.Kernels.Operators;

/// <summary>Elementwise comparisons; they produce bool.</summary>
public enum CompareOp { Eq, Ne, Lt, Le, Gt, Ge }
