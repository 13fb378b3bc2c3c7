namespace Ember.Data.Imbalance;

/// <summary>Which members of a Tomek link <see cref="TomekLinks"/> removes.</summary>
public enum TomekRemoval
{
    /// <summary>The member not in the minority class (imblearn's sampling_strategy 'auto').</summary>
    NotMinority,
    /// <summary>Both members (imblearn's 'all', as SMOTE+Tomek uses).</summary>
    Both,
}
