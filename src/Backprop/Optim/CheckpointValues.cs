using System.Globalization;
using Backprop.IO;

namespace Backprop.Optim;

/// <summary>
/// Scalars of optimizer and scheduler state as checkpoint metadata: doubles in round-trip form (so a restored run
/// continues bit for bit), and lookups that name the missing or malformed key.
/// </summary>
internal static class CheckpointValues
{
    public static void Write(Checkpoint checkpoint, string key, double value) =>
        checkpoint.Metadata[key] = value.ToString("R", CultureInfo.InvariantCulture);

    public static void Write(Checkpoint checkpoint, string key, long value) =>
        checkpoint.Metadata[key] = value.ToString(CultureInfo.InvariantCulture);

    public static void Write(Checkpoint checkpoint, string key, bool value) =>
        checkpoint.Metadata[key] = value ? "true" : "false";

    public static string Read(Checkpoint checkpoint, string key, string owner) =>
        checkpoint.Metadata.TryGetValue(key, out var text)
            ? text
            : throw new KeyNotFoundException($"{owner}.LoadState: the checkpoint has no entry '{key}'.");

    public static double ReadDouble(Checkpoint checkpoint, string key, string owner) =>
        double.TryParse(Read(checkpoint, key, owner), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Malformed(checkpoint, key, owner, "a number");

    public static long ReadLong(Checkpoint checkpoint, string key, string owner) =>
        long.TryParse(Read(checkpoint, key, owner), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Malformed(checkpoint, key, owner, "an integer");

    public static bool ReadBool(Checkpoint checkpoint, string key, string owner) => Read(checkpoint, key, owner) switch
    {
        "true" => true,
        "false" => false,
        _ => throw Malformed(checkpoint, key, owner, "true or false"),
    };

    /// <summary>Reads a value of <paramref name="type"/> (double, bool, int or long).</summary>
    public static object ReadAs(Type type, Checkpoint checkpoint, string key, string owner) =>
        type == typeof(double) ? ReadDouble(checkpoint, key, owner)
        : type == typeof(bool) ? ReadBool(checkpoint, key, owner)
        : type == typeof(int) ? checked((int)ReadLong(checkpoint, key, owner))
        : ReadLong(checkpoint, key, owner);

    public static void WriteAs(Checkpoint checkpoint, string key, object value)
    {
        switch (value)
        {
            case double d: Write(checkpoint, key, d); break;
            case bool b: Write(checkpoint, key, b); break;
            case int i: Write(checkpoint, key, i); break;
            case long l: Write(checkpoint, key, l); break;
            default: throw new ArgumentException($"Cannot store a {value.GetType().Name} as checkpoint metadata.");
        }
    }

    public static bool IsScalar(Type type) => type == typeof(double) || type == typeof(bool) || type == typeof(int) || type == typeof(long);

    private static FormatException Malformed(Checkpoint checkpoint, string key, string owner, string expected) =>
        new($"{owner}.LoadState: entry '{key}' is '{checkpoint.Metadata[key]}', not {expected}.");
}
