namespace Backprop.Distributed;

/// <summary>
/// The world of processes started by <c>mpirun</c>, over Open MPI's <c>MPI_COMM_WORLD</c>. Create it once per process
/// with <see cref="Initialize"/> and dispose it before the process exits (that finalizes MPI).
/// </summary>
/// <remarks>
/// MPI is initialized with <c>MPI_THREAD_MULTIPLE</c> requested, so that <see cref="DistributedDataParallel{TInput, TOutput}"/> can
/// all-reduce from a background thread while backward runs; the group also serializes its own calls, which is all a
/// library granting <c>MPI_THREAD_SERIALIZED</c> needs. A process not started by mpirun is a world of one.
/// </remarks>
public sealed unsafe class MpiProcessGroup : IProcessGroup
{
    private static MpiProcessGroup? s_world;
    private readonly MpiLibrary _mpi;
    private readonly Lock _calls = new();
    private bool _disposed;

    private MpiProcessGroup(MpiLibrary mpi, int threadLevel)
    {
        _mpi = mpi;
        ThreadLevel = threadLevel;
        int rank, size;
        mpi.Check(mpi.CommRank(mpi.CommWorld, &rank), "MPI_Comm_rank");
        mpi.Check(mpi.CommSize(mpi.CommWorld, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    /// <summary>Whether Open MPI's library can be loaded here.</summary>
    public static bool IsAvailable => MpiLibrary.IsAvailable;

    /// <summary>What to install, and how to start the program, for MPI.</summary>
    public static string InstallHint => MpiLibrary.InstallHint;

    /// <summary>
    /// Initializes MPI (once per process) and returns the world group. Throws <see cref="DllNotFoundException"/>,
    /// saying what to install, when Open MPI is missing.
    /// </summary>
    public static MpiProcessGroup Initialize()
    {
        if (s_world is { _disposed: false } world) return world;
        if (s_world is not null)
            throw new InvalidOperationException("MPI: the world group was disposed, which finalized MPI; MPI cannot be initialized twice in one process.");
        var mpi = MpiLibrary.Instance;
        int initialized, provided;
        mpi.Check(mpi.Initialized(&initialized), "MPI_Initialized");
        if (initialized != 0)
            throw new InvalidOperationException("MPI: it was initialized by other code in this process; MpiProcessGroup.Initialize must be the one to initialize it.");
        mpi.Check(mpi.InitThread(null, 0, MpiLibrary.ThreadMultiple, &provided), "MPI_Init_thread");
        if (provided < MpiLibrary.ThreadSerialized)
        {
            mpi.Finalize();
            throw new InvalidOperationException(
                $"MPI: the library granted thread level {provided}; gradient all-reduce runs on a background thread and needs MPI_THREAD_SERIALIZED (2) or better.");
        }
        return s_world = new MpiProcessGroup(mpi, provided);
    }

    public int Rank { get; }

    public int Size { get; }

    /// <summary>The thread support MPI granted: 2 for <c>MPI_THREAD_SERIALIZED</c>, 3 for <c>MPI_THREAD_MULTIPLE</c>.</summary>
    public int ThreadLevel { get; }

    public void AllReduceSum(Span<float> values) => AllReduce(values, _mpi.Float, sizeof(float));

    public void AllReduceSum(Span<double> values) => AllReduce(values, _mpi.Double, sizeof(double));

    public void Broadcast(Span<float> values, int root) => Broadcast(values, root, _mpi.Float, sizeof(float));

    public void Broadcast(Span<double> values, int root) => Broadcast(values, root, _mpi.Double, sizeof(double));

    public void Broadcast(Span<byte> values, int root) => Broadcast(values, root, _mpi.Byte, sizeof(byte));

    public void Barrier()
    {
        lock (_calls)
        {
            CheckOpen();
            _mpi.Check(_mpi.Barrier(_mpi.CommWorld), "MPI_Barrier");
        }
    }

    public void Send(ReadOnlySpan<float> values, int destination, int tag)
    {
        CheckPeer(destination, "Send");
        lock (_calls)
        {
            CheckOpen();
            fixed (float* p = values)
            {
                nint address = (nint)p;
                // An empty message is still one message: the receiver waits for it.
                InPieces(values.Length, sizeof(float), evenIfEmpty: true, "MPI_Send",
                    (offset, count) => _mpi.Send((byte*)address + offset, count, _mpi.Float, destination, tag, _mpi.CommWorld));
            }
        }
    }

    public void Receive(Span<float> values, int source, int tag)
    {
        CheckPeer(source, "Receive");
        lock (_calls)
        {
            CheckOpen();
            fixed (float* p = values)
            {
                nint address = (nint)p;
                // MPI_STATUS_IGNORE is a null pointer in Open MPI.
                InPieces(values.Length, sizeof(float), evenIfEmpty: true, "MPI_Recv",
                    (offset, count) => _mpi.Recv((byte*)address + offset, count, _mpi.Float, source, tag, _mpi.CommWorld, null));
            }
        }
    }

    /// <summary>Finalizes MPI. Every rank must dispose its group (mpirun reports a rank that exits without it).</summary>
    public void Dispose()
    {
        lock (_calls)
        {
            if (_disposed) return;
            _disposed = true;
            int finalized;
            _mpi.Check(_mpi.Finalized(&finalized), "MPI_Finalized");
            if (finalized == 0) _mpi.Check(_mpi.Finalize(), "MPI_Finalize");
        }
    }

    /// <summary>The most elements one MPI call is given.</summary>
    private const int MaxCount = 1 << 30;

    private void AllReduce<T>(Span<T> values, nint type, int elementSize) where T : unmanaged
    {
        lock (_calls)
        {
            CheckOpen();
            fixed (T* p = values)
            {
                nint address = (nint)p;
                InPieces(values.Length, elementSize, evenIfEmpty: false, "MPI_Allreduce",
                    (offset, count) => _mpi.Allreduce(MpiLibrary.InPlace, (byte*)address + offset, count, type, _mpi.Sum, _mpi.CommWorld));
            }
        }
    }

    private void Broadcast<T>(Span<T> values, int root, nint type, int elementSize) where T : unmanaged
    {
        CheckPeer(root, "Broadcast");
        lock (_calls)
        {
            CheckOpen();
            fixed (T* p = values)
            {
                nint address = (nint)p;
                InPieces(values.Length, elementSize, evenIfEmpty: false, "MPI_Bcast",
                    (offset, count) => _mpi.Bcast((byte*)address + offset, count, type, root, _mpi.CommWorld));
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/>(byte offset, element count) over pieces of at most <see cref="MaxCount"/> elements
    /// (MPI counts are 32-bit), checking each result.
    /// </summary>
    private void InPieces(int length, int elementSize, bool evenIfEmpty, string name, Func<long, int, int> call)
    {
        if (length == 0 && !evenIfEmpty) return;
        int start = 0;
        do
        {
            int count = Math.Min(MaxCount, length - start);
            _mpi.Check(call((long)start * elementSize, count), name);
            start += count;
        } while (start < length);
    }

    private void CheckPeer(int rank, string call)
    {
        if ((uint)rank >= (uint)Size)
            throw new ArgumentOutOfRangeException(nameof(rank), $"MPI {call}: rank {rank} is not in the group of {Size} processes.");
    }

    private void CheckOpen()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(MpiProcessGroup), "MPI: the group was disposed, which finalized MPI.");
    }
}
