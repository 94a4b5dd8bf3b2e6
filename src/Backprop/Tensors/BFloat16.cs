namespace Backprop;

/// <summary>
/// A bfloat16 value: the top 16 bits of a float32 (8 exponent bits, 7 mantissa bits), the element type of
/// <see cref="DType.BFloat16"/> tensors. Conversions from float and double round to nearest, ties to even, once.
/// </summary>
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    private BFloat16(ushort bits) => Bits = bits;

    /// <summary>The raw bits, as stored in memory and in safetensors files.</summary>
    public ushort Bits { get; }

    public static BFloat16 FromBits(ushort bits) => new(bits);

    /// <summary>The nearest bfloat16 (ties to even); NaN stays a quiet NaN of the same sign.</summary>
    public static BFloat16 FromSingle(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return new((ushort)((bits >> 16) | 0x0040));
        uint roundingBias = 0x7FFFu + ((bits >> 16) & 1u);
        return new((ushort)((bits + roundingBias) >> 16));
    }

    /// <summary>
    /// The nearest bfloat16 to a double, rounded once: the double is first narrowed to float rounding to odd (the
    /// float's last bit records whether anything was dropped), which float→bfloat16 rounding then treats correctly.
    /// </summary>
    public static BFloat16 FromDouble(double value)
    {
        float f = (float)value;
        if (float.IsFinite(f) && (double)f != value)
        {
            uint bits = BitConverter.SingleToUInt32Bits(f);
            if (Math.Abs((double)f) > Math.Abs(value)) bits -= 1; // (float) rounded away from zero: step back toward it
            f = BitConverter.UInt32BitsToSingle(bits | 1u);
        }
        return FromSingle(f);
    }

    public float ToSingle() => BitConverter.UInt32BitsToSingle((uint)Bits << 16);

    public static explicit operator BFloat16(float value) => FromSingle(value);

    public static explicit operator BFloat16(double value) => FromDouble(value);

    public static implicit operator float(BFloat16 value) => value.ToSingle();

    public static implicit operator double(BFloat16 value) => value.ToSingle();

    public bool Equals(BFloat16 other) => Bits == other.Bits;

    public override bool Equals(object? obj) => obj is BFloat16 other && Equals(other);

    public override int GetHashCode() => Bits;

    public override string ToString() => ToSingle().ToString(System.Globalization.CultureInfo.InvariantCulture);
}
