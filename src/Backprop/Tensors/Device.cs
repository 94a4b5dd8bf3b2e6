namespace Backprop;

public enum DeviceType
{
    Cpu,
    Cuda,
}

/// <summary>Where a tensor's storage lives. Ops dispatch to the backend registered for the device.</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    public static Device Cpu { get; } = new(DeviceType.Cpu);

    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    /// <summary>Parses "cpu", "cuda" or "cuda:1".</summary>
    public static Device Parse(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':');
        var type = parts[0] switch
        {
            "cpu" => DeviceType.Cpu,
            "cuda" => DeviceType.Cuda,
            _ => throw new FormatException($"Unknown device '{text}': expected cpu, cuda or cuda:N."),
        };
        int index = parts.Length > 1 ? int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
        return new Device(type, index);
    }

    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";
}
