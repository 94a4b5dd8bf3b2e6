namespace Backprop.Nn;

/// <summary>A state-dict entry whose tensor has another shape than the module's parameter or buffer of that name.</summary>
public sealed record StateDictShapeMismatch(string Key, Shape Expected, Shape Found)
{
    public override string ToString() => $"{Key} (expected {Expected}, found {Found})";
}
