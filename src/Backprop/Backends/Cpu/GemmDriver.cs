using System.Runtime.CompilerServices;

namespace Backprop.Backends.Cpu;

/// <summary>
/// The blocked GEMM loop nest around one micro-kernel, as a parallel body over C's MR×NR tiles.
/// </summary>
/// <remarks>
/// Loop order, outermost first (the BLIS nest with A and B swapped, because our kernel vectorises along N):
/// <list type="number">
/// <item>k in blocks of kc: the A sliver of a tile row (MR × kc) then fits in L1 next to the stream of B;</item>
/// <item>N in groups of panels, packed together into a kc × nc block of B sized for half of L2;</item>
/// <item>M in slivers of MR rows, each read once from cache into L1 and reused against every panel of the group;</item>
/// <item>the group's NR-wide panels of B, each multiplied by the sliver in the micro-kernel.</item>
/// </list>
/// A is read in place when it has a unit stride (row- or column-major) and only packed for the last, partial
/// sliver or for general strides; B is always packed. The tiles are numbered N-panel-major, and each chunk of the
/// parallel-for is a contiguous range of them: a band of columns of C with a partial panel at each end, so each
/// chunk packs only the part of B it multiplies. Every tile sums its k loop in the same order whichever thread
/// runs it, so the result does not depend on the thread count.
/// </remarks>
internal readonly unsafe struct GemmJob<T, TKernel> : IParallelBody
    where T : unmanaged, INumberBase<T> where TKernel : IGemmKernel<T>
{
    private readonly int _m, _n, _k, _kc, _groupPanels, _mPanels;
    private readonly T* _a, _b, _c, _prepackedB, _bias;
    private readonly nint _aRow, _aCol, _bRow, _bCol, _cRow, _cCol;
    private readonly bool _accumulate, _byRows;

    /// <param name="byRows">
    /// Number the tiles M-sliver-major instead (needs <paramref name="prepackedB"/>): each chunk is then a band of C's
    /// rows across all of N, and reads its slivers of A once, multiplying each by every panel of B, where the
    /// panel-major order reads all of A once per panel. For a tall product whose B is small once packed, such as an
    /// LSTM's ∂W_hh = ∂Gᵀ·H (A 4.5 MB, B 1.1 MB).
    /// </param>
    public GemmJob(int m, int n, int k, T* a, nint aRow, nint aCol, T* b, nint bRow, nint bCol,
        T* c, nint cRow, nint cCol, bool accumulate, T* prepackedB = null, T* bias = null, bool byRows = false)
    {
        (_m, _n, _k, _accumulate) = (m, n, k, accumulate);
        _byRows = byRows && prepackedB != null;
        _prepackedB = prepackedB;
        _bias = bias;
        _a = a; _aRow = aRow; _aCol = aCol;
        _b = b; _bRow = bRow; _bCol = bCol;
        _c = c; _cRow = cRow; _cCol = cCol;
        _kc = GemmBlocking.Kc(k);
        _groupPanels = Math.Max(1, GemmBlocking.PackedBBytes / (_kc * sizeof(T) * TKernel.NR));
        _mPanels = (m + TKernel.MR - 1) / TKernel.MR;
    }

    public int Tiles => _mPanels * ((_n + TKernel.NR - 1) / TKernel.NR);

    public readonly void Execute(int start, int end)
    {
        if (_byRows)
        {
            ExecuteByRows(start, end);
            return;
        }
        int mr = TKernel.MR, nr = TKernel.NR, mPanels = _mPanels;
        int firstPanel = start / mPanels, lastPanel = (end - 1) / mPanels;
        int groupPanels = Math.Min(_groupPanels, lastPanel - firstPanel + 1);
        T* packedB = _prepackedB is null ? GemmBuffers.PackedB<T>(_kc * groupPanels * nr) : null;
        int nPanels = (_n + nr - 1) / nr;
        T* packedA = GemmBuffers.PackedA<T>(_kc * mr);
        T* tile = stackalloc T[mr * nr];

        for (int p0 = 0; p0 < _k; p0 += _kc)
        {
            int kc = Math.Min(_kc, _k - p0);
            bool accumulate = _accumulate || p0 > 0;
            // The first k block starts from the bias row, when there is one: C = A·B + bias in one pass over C.
            T* bias = accumulate ? null : _bias;
            for (int group = firstPanel; group <= lastPanel; group += groupPanels)
            {
                int groupEnd = Math.Min(group + groupPanels, lastPanel + 1);
                int j0 = group * nr;
                // A prepacked B (see PrepackedB) holds exactly these panels, k block after k block.
                T* groupB = _prepackedB is null ? packedB : _prepackedB + (nint)p0 * nPanels * nr + (nint)group * kc * nr;
                if (_prepackedB is null)
                    GemmPacking.PackB(kc, Math.Min(groupEnd * nr, _n) - j0, nr, _b + p0 * _bRow + j0 * _bCol, _bRow, _bCol, packedB);
                for (int ip = 0; ip < mPanels; ip++)
                {
                    // Only the range's first and last N panels are partial, so one step in from each end suffices.
                    int jpLo = group, jpHi = groupEnd - 1;
                    if (jpLo * mPanels + ip < start) jpLo++;
                    if (jpHi * mPanels + ip >= end) jpHi--;
                    if (jpLo > jpHi) continue;

                    T* a = Sliver(ip, p0, kc, packedA, out nint aRow, out nint aCol);
                    int i0 = ip * mr, rows = Math.Min(mr, _m - i0);
                    for (int jp = jpLo; jp <= jpHi; jp++)
                        RunTile(kc, a, aRow, aCol, groupB + (nint)(jp - group) * kc * nr, i0, rows, jp * nr, accumulate, bias, tile);
                }
            }
        }
    }

    /// <summary>Tiles [start, end) numbered sliver-major: for each k block, each sliver of A against its panels of B.</summary>
    private readonly void ExecuteByRows(int start, int end)
    {
        int mr = TKernel.MR, nr = TKernel.NR;
        int nPanels = (_n + nr - 1) / nr;
        int firstSliver = start / nPanels, lastSliver = (end - 1) / nPanels;
        T* packedA = GemmBuffers.PackedA<T>(_kc * mr);
        T* tile = stackalloc T[mr * nr];
        for (int p0 = 0; p0 < _k; p0 += _kc)
        {
            int kc = Math.Min(_kc, _k - p0);
            bool accumulate = _accumulate || p0 > 0;
            T* bias = accumulate ? null : _bias;
            T* blockB = _prepackedB + (nint)p0 * nPanels * nr;
            for (int ip = firstSliver; ip <= lastSliver; ip++)
            {
                int jpLo = ip == firstSliver ? start % nPanels : 0, jpHi = ip == lastSliver ? (end - 1) % nPanels : nPanels - 1;
                T* a = Sliver(ip, p0, kc, packedA, out nint aRow, out nint aCol);
                int i0 = ip * mr, rows = Math.Min(mr, _m - i0);
                for (int jp = jpLo; jp <= jpHi; jp++)
                    RunTile(kc, a, aRow, aCol, blockB + (nint)jp * kc * nr, i0, rows, jp * nr, accumulate, bias, tile);
            }
        }
    }

    /// <summary>
    /// Sliver <paramref name="ip"/> of A (MR rows) in k block <paramref name="p0"/>: read in place when it is whole and
    /// has a unit stride, else packed into <paramref name="packedA"/>.
    /// </summary>
    private readonly T* Sliver(int ip, int p0, int kc, T* packedA, out nint aRow, out nint aCol)
    {
        int mr = TKernel.MR, i0 = ip * mr, rows = Math.Min(mr, _m - i0);
        T* a = _a + i0 * _aRow + p0 * _aCol;
        (aRow, aCol) = (_aRow, _aCol);
        if (rows == mr && (_aCol == 1 || _aRow == 1)) return a;
        GemmPacking.PackA(kc, rows, mr, a, aRow, aCol, packedA);
        (aRow, aCol) = (1, mr);
        return packedA;
    }

    /// <summary>One MR×NR tile of C at (i0, j) from a sliver of A and a packed panel of B.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void RunTile(int kc, T* a, nint aRow, nint aCol, T* b, int i0, int rows, int j, bool accumulate, T* bias, T* tile)
    {
        int mr = TKernel.MR, nr = TKernel.NR, cols = Math.Min(nr, _n - j);
        T* c = _c + i0 * _cRow + j * _cCol;
        T* biasJ = bias == null ? null : bias + j;
        if (rows == mr && cols == nr && _cCol == 1)
        {
            if (accumulate) TKernel.Run(kc, a, aRow, aCol, b, c, _cRow, c, _cRow);
            else TKernel.Run(kc, a, aRow, aCol, b, c, _cRow, biasJ, 0);
        }
        else
        {
            TKernel.Run(kc, a, aRow, aCol, b, tile, nr, null, 0);
            MergeTile(tile, nr, rows, cols, c, _cRow, _cCol, accumulate, biasJ);
        }
    }

    private static void MergeTile(T* tile, int nr, int rows, int cols, T* c, nint cRow, nint cCol, bool accumulate, T* bias)
    {
        for (int r = 0; r < rows; r++)
        {
            T* from = tile + r * nr;
            T* to = c + r * cRow;
            if (accumulate) for (int j = 0; j < cols; j++) to[j * cCol] += from[j];
            else if (bias != null) for (int j = 0; j < cols; j++) to[j * cCol] = from[j] + bias[j];
            else for (int j = 0; j < cols; j++) to[j * cCol] = from[j];
        }
    }
}

/// <summary>Cache-blocking sizes for the Zen 4 / Skylake class of cores (32–48 KiB L1d, 1–2 MiB L2).</summary>
internal static class GemmBlocking
{
    /// <summary>Longest k block: an A sliver (6 × 256 floats = 6 KiB) stays in L1 while B streams past it.</summary>
    public const int MaxKc = 256;

    /// <summary>A packed block of B takes at most half of a 1 MiB L2, leaving room for C and the A slivers.</summary>
    public const int PackedBBytes = 512 * 1024;

    /// <summary>Balanced k blocks: 784 splits as 4 × 196, not 3 × 256 + 16, whose last pass would be all overhead.</summary>
    public static int Kc(int k)
    {
        int kBlocks = (k + MaxKc - 1) / MaxKc;
        return (k + kBlocks - 1) / kBlocks;
    }
}
