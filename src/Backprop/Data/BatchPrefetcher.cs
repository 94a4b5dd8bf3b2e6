using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace Backprop.Data;

/// <summary>
/// Assembles a planned sequence of batches on a worker thread while the consumer trains on earlier ones. At most
/// <c>capacity</c> finished batches wait in the queue (plus the one being assembled), so memory stays bounded. An
/// exception on the worker is rethrown on the consumer after the batches that preceded it; disposing stops the worker
/// and waits for it to finish.
/// </summary>
internal sealed class BatchPrefetcher : IDisposable
{
    private readonly Func<int, Batch> _assemble;
    private readonly int _count;
    private readonly BlockingCollection<Batch> _ready;
    private readonly CancellationTokenSource _stop = new();
    private ExceptionDispatchInfo? _failure;
    private bool _disposed;

    public BatchPrefetcher(Func<int, Batch> assemble, int count, int capacity)
    {
        _assemble = assemble;
        _count = count;
        _ready = new BlockingCollection<Batch>(new ConcurrentQueue<Batch>(), capacity);
        Worker = new Thread(Run) { IsBackground = true, Name = "Backprop DataLoader prefetch" };
        Worker.Start();
    }

    public Thread Worker { get; }

    private void Run()
    {
        try
        {
            // Batches are data, never part of a graph; grad mode is per thread, so set it here.
            using var noGrad = Autograd.NoGrad();
            for (int i = 0; i < _count; i++)
            {
                _stop.Token.ThrowIfCancellationRequested();
                _ready.Add(_assemble(i), _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _failure = ExceptionDispatchInfo.Capture(e);
        }
        finally
        {
            _ready.CompleteAdding();
        }
    }

    /// <summary>Waits for the next batch; false at the end of the plan; rethrows the worker's exception in its place.</summary>
    public bool TryTake(out Batch batch)
    {
        if (_ready.TryTake(out batch!, Timeout.Infinite)) return true;
        _failure?.Throw();
        return false;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Cancel();
        Worker.Join();
        _ready.Dispose();
        _stop.Dispose();
    }
}
