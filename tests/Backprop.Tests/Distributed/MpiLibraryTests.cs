using Backprop.Distributed;

namespace Backprop.Tests.Distributed;

public class MpiLibraryTests
{
    [Fact]
    public void MissingLibrary_SaysWhatToInstall()
    {
        var e = Assert.Throws<DllNotFoundException>(() => MpiLibrary.Load(["/nonexistent/libmpi.so.40"]));
        Assert.Contains("apt-get install -y openmpi-bin libopenmpi-dev", e.Message);
        Assert.Contains("/nonexistent/libmpi.so.40", e.Message);
    }

    [Fact]
    public void ALibraryThatIsNotOpenMpi_IsRefusedByName()
    {
        // libc loads but exports no ompi_mpi_comm_world: the binding must not guess at another MPI's handles.
        var e = Assert.Throws<DllNotFoundException>(() => MpiLibrary.Load(["libc.so.6"]));
        Assert.Contains("not Open MPI", e.Message);
    }
}
