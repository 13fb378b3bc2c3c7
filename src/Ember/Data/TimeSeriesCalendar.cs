namespace Ember.Data;

/// <summary>How <see cref="TimeSeriesCsv"/> understood the time column, and so which steps count as gaps.</summary>
public enum TimeSeriesCalendar
{
    /// <summary>Free text: rows are taken in file order, gaps cannot be seen.</summary>
    None,
    /// <summary>Integer years stepping by 1.</summary>
    Years,
    /// <summary>yyyy-MM months stepping by 1.</summary>
    Months,
    /// <summary>yyyy-MM-dd or yyyyMMdd dates stepping by a fixed number of days.</summary>
    Dates,
}
