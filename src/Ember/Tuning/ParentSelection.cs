namespace Ember.Tuning;

/// <summary>How evolution builds the parent from the best n results so far (YOLOv5's <c>parent</c> in train.py).</summary>
public enum ParentSelection
{
    /// <summary>One of the top n rows, drawn with weights fitness − min(fitness) + 1e-6 (YOLOv5's default).</summary>
    Single,
    /// <summary>The fitness-weighted mean of the top n rows, with the same weights.</summary>
    Weighted,
}
