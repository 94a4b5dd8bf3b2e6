namespace Backprop.Data;

/// <summary>How a CSV file's target column is read.</summary>
public enum CsvTarget
{
    /// <summary>Class labels as Int64 [N]: non-negative integers as they are, or names mapped to indices.</summary>
    ClassLabel,

    /// <summary>Regression targets as Float32 [N].</summary>
    Regression,
}
