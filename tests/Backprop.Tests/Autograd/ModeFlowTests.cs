namespace Backprop.Tests.AutogradTests;

/// <summary>
/// Grad mode, anomaly mode and the non-finite sentinel follow the async flow (AsyncLocal semantics): across
/// <c>await</c>, into tasks started inside a scope, and never onto a thread the flow merely passed through.
/// </summary>
public class ModeFlowTests
{
    [Fact]
    public void A_NoGrad_scope_held_across_an_await_leaves_the_calling_thread_with_gradients_on()
    {
        var (callerAfterStart, insideAfterAwait, callerAfterEnd) = OnNewThread(() =>
        {
            bool inside = true;
            async Task Body()
            {
                using (Backprop.Autograd.NoGrad())
                {
                    await Task.Yield(); // always resumes on the thread pool, not on the calling thread
                    inside = Backprop.Autograd.IsGradEnabled;
                }
            }
            var task = Body(); // returns at the await, with the scope still open in its flow
            bool afterStart = Backprop.Autograd.IsGradEnabled;
            task.GetAwaiter().GetResult();
            return (afterStart, inside, Backprop.Autograd.IsGradEnabled);
        });
        Assert.True(callerAfterStart, "the caller's thread had gradients off after the async method returned at its await");
        Assert.False(insideAfterAwait, "the continuation after the await ran with gradients on inside the NoGrad scope");
        Assert.True(callerAfterEnd, "the caller's thread had gradients off after the async method finished");
    }

    [Fact]
    public async Task Modes_hold_after_an_await_inside_their_scope_and_end_with_it()
    {
        using (Backprop.Autograd.DetectNonFinite())
        {
            using (Backprop.Autograd.NoGrad())
            {
                await Task.Yield();
                Assert.False(Backprop.Autograd.IsGradEnabled);
                Assert.True(Backprop.Autograd.IsCheckingNonFinite);
            }
            await Task.Yield();
            Assert.True(Backprop.Autograd.IsGradEnabled);
            Assert.True(Backprop.Autograd.IsCheckingNonFinite);
        }
        await Task.Yield();
        Assert.True(Backprop.Autograd.IsGradEnabled);
        Assert.False(Backprop.Autograd.IsCheckingNonFinite);
    }

    [Fact]
    public async Task A_task_started_inside_NoGrad_records_no_graph_and_one_started_after_does()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0 }).SetRequiresGrad();
        Task<bool> inside;
        using (Backprop.Autograd.NoGrad()) inside = Task.Run(() => (x * 2.0).RequiresGrad);
        Assert.False(await inside, "a task started inside NoGrad recorded a graph");
        Assert.True(await Task.Run(() => (x * 2.0).RequiresGrad), "a task started after NoGrad recorded no graph");
    }

    [Fact]
    public async Task A_backward_in_a_task_started_inside_DetectNonFinite_stops_at_the_non_finite_gradient()
    {
        Exception? inside;
        using (Backprop.Autograd.DetectNonFinite()) inside = await Task.Run(() => Record.Exception(BackwardThroughLogOfZero));
        var error = Assert.IsType<AnomalyException>(inside);
        Assert.Contains("LogBackward", error.Message);

        Assert.Null(await Task.Run(() => Record.Exception(BackwardThroughLogOfZero)));
    }

    [Fact]
    public async Task A_task_started_inside_DetectAnomaly_records_forward_stacks_and_checks_its_backward()
    {
        Exception? inside;
        using (Backprop.Autograd.DetectAnomaly()) inside = await Task.Run(() => Record.Exception(BackwardThroughLogOfZero));
        var error = Assert.IsType<AnomalyException>(inside);
        Assert.Contains("Forward stack of LogBackward", error.Message);
    }

    [Fact]
    public void A_thread_started_inside_a_scope_inherits_its_modes()
    {
        bool gradEnabled = true, checking = false;
        using (Backprop.Autograd.NoGrad())
        using (Backprop.Autograd.DetectNonFinite())
        {
            var thread = new Thread(() =>
            {
                gradEnabled = Backprop.Autograd.IsGradEnabled;
                checking = Backprop.Autograd.IsCheckingNonFinite;
            });
            thread.Start();
            thread.Join();
        }
        Assert.False(gradEnabled);
        Assert.True(checking);
    }

    [Fact]
    public async Task Pool_threads_that_ran_work_inside_a_scope_do_not_keep_its_modes()
    {
        var work = new List<Task>();
        using (Backprop.Autograd.NoGrad())
        using (Backprop.Autograd.DetectNonFinite())
            for (int i = 0; i < 32; i++) work.Add(Task.Run(() => Thread.SpinWait(1000)));
        await Task.WhenAll(work);
        // Whichever pool threads these land on, the ones above included, see the modes of this flow.
        var seen = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ =>
            Task.Run(() => (Backprop.Autograd.IsGradEnabled, Backprop.Autograd.IsCheckingNonFinite))));
        Assert.All(seen, s => Assert.Equal((true, false), s));
    }

    [Fact]
    public void Nested_scopes_restore_what_they_found()
    {
        OnNewThread(() =>
        {
            using (Backprop.Autograd.NoGrad())
            {
                using (Backprop.Autograd.NoGrad()) Assert.False(Backprop.Autograd.IsGradEnabled);
                Assert.False(Backprop.Autograd.IsGradEnabled);
                using (Backprop.Autograd.EnableGrad()) Assert.True(Backprop.Autograd.IsGradEnabled);
                Assert.False(Backprop.Autograd.IsGradEnabled);
                using (Backprop.Autograd.SetGradEnabled(true))
                using (Backprop.Autograd.SetGradEnabled(false))
                    Assert.False(Backprop.Autograd.IsGradEnabled);
                Assert.False(Backprop.Autograd.IsGradEnabled);
            }
            Assert.True(Backprop.Autograd.IsGradEnabled);

            using (Backprop.Autograd.DetectNonFinite())
            {
                using (Backprop.Autograd.DetectNonFinite()) Assert.True(Backprop.Autograd.IsCheckingNonFinite);
                Assert.True(Backprop.Autograd.IsCheckingNonFinite);
                using (Backprop.Autograd.DetectAnomaly()) Assert.True(Backprop.Autograd.IsAnomalyEnabled);
                Assert.False(Backprop.Autograd.IsAnomalyEnabled);
                Assert.True(Backprop.Autograd.IsCheckingNonFinite);
            }
            Assert.False(Backprop.Autograd.IsCheckingNonFinite);
            default(GradModeScope).Dispose();
            Assert.True(Backprop.Autograd.IsGradEnabled);
            return 0;
        });
    }

    [Fact]
    public void Scopes_of_different_modes_may_end_in_any_order()
    {
        OnNewThread(() =>
        {
            var noGrad = Backprop.Autograd.NoGrad();
            var sentinel = Backprop.Autograd.DetectNonFinite();
            noGrad.Dispose();
            Assert.True(Backprop.Autograd.IsGradEnabled);
            Assert.True(Backprop.Autograd.IsCheckingNonFinite);
            sentinel.Dispose();
            Assert.True(Backprop.Autograd.IsGradEnabled);
            Assert.False(Backprop.Autograd.IsCheckingNonFinite);
            return 0;
        });
    }

    private static void BackwardThroughLogOfZero()
    {
        var x = Tensor.FromArray(new[] { 0.0, 1.0 }).SetRequiresGrad();
        x.Log().Sum().Backward(); // d log(x)/dx = 1/x is ∞ at 0
    }

    /// <summary>Runs on a fresh thread with no synchronization context, so an await inside resumes on the pool.</summary>
    private static T OnNewThread<T>(Func<T> body)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try { result = body(); }
            catch (Exception e) { error = e; }
        });
        thread.Start();
        thread.Join();
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        return result;
    }
}
