using System.Runtime.InteropServices;

namespace Backprop.Distributed;

/// <summary>
/// The handful of Open MPI entry points the library calls, resolved at run time from <c>libmpi.so.40</c> so that
/// nothing needs MPI until a process group is asked for.
/// </summary>
/// <remarks>
/// Open MPI's handles (<c>MPI_COMM_WORLD</c>, <c>MPI_FLOAT</c>, <c>MPI_SUM</c>…) are the addresses of exported
/// globals (<c>ompi_mpi_comm_world</c>, …), so they are found with <see cref="NativeLibrary.GetExport"/>. MPICH and
/// MS-MPI encode handles as integers instead; their libraries lack those exports and are refused by name.
/// The library is opened with <c>RTLD_GLOBAL</c>: Open MPI's plug-ins (loaded by <c>MPI_Init</c>) resolve symbols of
/// libmpi itself and fail with "undefined symbol" when it was opened locally, as .NET does by default.
/// </remarks>
internal sealed unsafe class MpiLibrary
{
    public const string InstallHint =
        "Install Open MPI (on Debian or Ubuntu: `apt-get install -y openmpi-bin libopenmpi-dev`) and start the program " +
        "with `mpirun -np N …`; set BACKPROP_MPI_LIBRARY to the path of libmpi.so if it is elsewhere.";

    public const int ThreadSingle = 0, ThreadFunneled = 1, ThreadSerialized = 2, ThreadMultiple = 3;
    private const int Success = 0;
    private const int RtldNow = 2, RtldGlobal = 0x100;

    private static readonly Lazy<MpiLibrary> s_instance = new(Load);

    public readonly nint Handle;
    public readonly nint CommWorld, Float, Double, Byte, Sum;
    public readonly delegate* unmanaged<int*, int> Initialized, Finalized;
    public readonly delegate* unmanaged<int*, nint, int, int*, int> InitThread;
    public readonly delegate* unmanaged<int> Finalize;
    public readonly delegate* unmanaged<nint, int*, int> CommRank, CommSize;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce;
    public readonly delegate* unmanaged<void*, int, nint, int, nint, int> Bcast;
    public readonly delegate* unmanaged<nint, int> Barrier;
    public readonly delegate* unmanaged<void*, int, nint, int, int, nint, int> Send;
    public readonly delegate* unmanaged<void*, int, nint, int, int, nint, void*, int> Recv;
    public readonly delegate* unmanaged<int, byte*, int*, int> ErrorString;

    /// <summary>MPI_IN_PLACE in Open MPI.</summary>
    public static void* InPlace => (void*)1;

    private MpiLibrary(nint handle)
    {
        Handle = handle;
        CommWorld = Export("ompi_mpi_comm_world");
        Float = Export("ompi_mpi_float");
        Double = Export("ompi_mpi_double");
        Byte = Export("ompi_mpi_byte");
        Sum = Export("ompi_mpi_op_sum");
        Initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        InitThread = (delegate* unmanaged<int*, nint, int, int*, int>)Export("MPI_Init_thread");
        Finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        CommRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        Allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        Bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export("MPI_Bcast");
        Barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        Send = (delegate* unmanaged<void*, int, nint, int, int, nint, int>)Export("MPI_Send");
        Recv = (delegate* unmanaged<void*, int, nint, int, int, nint, void*, int>)Export("MPI_Recv");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Export("MPI_Error_string");
    }

    /// <summary>The loaded library; throws <see cref="DllNotFoundException"/> with the install step when there is none.</summary>
    public static MpiLibrary Instance => s_instance.Value;

    /// <summary>Whether an Open MPI library can be loaded on this machine (loads it if so).</summary>
    public static bool IsAvailable
    {
        get
        {
            try { return s_instance.Value is not null; }
            catch (DllNotFoundException) { return false; }
        }
    }

    private nint Export(string name) => NativeLibrary.TryGetExport(Handle, name, out var address)
        ? address
        : throw new DllNotFoundException(
            $"MPI: the library loaded lacks {name}, so it is not Open MPI (MPICH and MS-MPI use other handle encodings). {InstallHint}");

    private static MpiLibrary Load()
    {
        var configured = Environment.GetEnvironmentVariable("BACKPROP_MPI_LIBRARY");
        return Load(configured is { Length: > 0 } ? [configured] : ["libmpi.so.40", "libmpi.so"]);
    }

    /// <summary>The first of <paramref name="candidates"/> (names or paths) that loads and is Open MPI.</summary>
    internal static MpiLibrary Load(IReadOnlyList<string> candidates)
    {
        if (!OperatingSystem.IsLinux())
            throw new DllNotFoundException($"MPI: the Open MPI binding supports Linux only; this is {RuntimeInformation.OSDescription}. {InstallHint}");
        foreach (var name in candidates)
        {
            // Opening it globally first makes the later NativeLibrary.Load return the same, global, handle.
            nint global = DlOpen(name, RtldNow | RtldGlobal);
            if (global != 0 && NativeLibrary.TryLoad(name, out var handle)) return new MpiLibrary(handle);
        }
        throw new DllNotFoundException(
            $"MPI: no Open MPI library found (tried {string.Join(", ", candidates)}). {InstallHint}");
    }

    public void Check(int code, string call)
    {
        if (code == Success) return;
        var text = stackalloc byte[512];
        int length = 0;
        string message = ErrorString(code, text, &length) == Success ? Marshal.PtrToStringUTF8((nint)text, length) : $"error code {code}";
        throw new InvalidOperationException($"MPI: {call} failed: {message}.");
    }

    [DllImport("libc.so.6", EntryPoint = "dlopen")]
    private static extern nint DlOpenNative([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    private static nint DlOpen(string file, int mode)
    {
        try { return DlOpenNative(file, mode); }
        catch (DllNotFoundException) { return 0; }
        catch (EntryPointNotFoundException) { return 0; }
    }
}
