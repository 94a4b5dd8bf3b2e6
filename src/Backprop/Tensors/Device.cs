namespace Backprop;

public enum DeviceType
{
    Cpu,
    Cuda,
    /// <summary>
    /// A device of a backend outside this library, as PyTorch's <c>privateuseone</c>: the backend registers itself
    /// and its name with <see cref="BackendRegistry.RegisterPrivateUse1"/>, and devices print and parse by that name.
    /// </summary>
    PrivateUse1,
}

/// <summary>Where a tensor's storage lives. Ops dispatch to the backend registered for the device.</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    public static Device Cpu { get; } = new(DeviceType.Cpu);

    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    /// <summary>Parses "cpu", "cuda", "cuda:1", or the name of a registered private-use backend ("name" or "name:N").</summary>
    public static Device Parse(string text)
    {
        var parts = text.Trim().ToLowerInvariant().Split(':');
        var privateName = BackendRegistry.PrivateUse1Name;
        var type = parts[0] switch
        {
            "cpu" => DeviceType.Cpu,
            "cuda" => DeviceType.Cuda,
            var name when name == privateName => DeviceType.PrivateUse1,
            _ => throw new FormatException($"Unknown device '{text}': expected cpu, cuda, cuda:N or {privateName}[:N]."),
        };
        int index = parts.Length > 1 ? int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
        return new Device(type, index);
    }

    public override string ToString() => Type switch
    {
        DeviceType.Cpu => "cpu",
        DeviceType.Cuda => $"cuda:{Index}",
        _ => $"{BackendRegistry.PrivateUse1Name}:{Index}",
    };
}
