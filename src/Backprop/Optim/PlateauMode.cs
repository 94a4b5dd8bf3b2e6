namespace Backprop.Optim;

/// <summary>Whether <see cref="ReduceLrOnPlateau"/>'s metric improves by falling (a loss) or rising (an accuracy).</summary>
public enum PlateauMode
{
    Min,
    Max,
}
