namespace Backprop.Data;

/// <summary>The element type byte of an IDX file (the third byte of its magic number).</summary>
public enum IdxElementType : byte
{
    UnsignedByte = 0x08,
    SignedByte = 0x09,
    /// <summary>16-bit signed integer, big-endian.</summary>
    Int16 = 0x0B,
    /// <summary>32-bit signed integer, big-endian.</summary>
    Int32 = 0x0C,
    /// <summary>32-bit IEEE float, big-endian.</summary>
    Float32 = 0x0D,
    /// <summary>64-bit IEEE float, big-endian.</summary>
    Float64 = 0x0E,
}
