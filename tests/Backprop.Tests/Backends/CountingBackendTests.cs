using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Backends;

/// <summary>
/// Runs a model, its optimizer and a safetensors round trip on <see cref="CountingBackend"/>'s device, to prove that no
/// layer, optimizer or IO path bypasses the tensor's backend (docs/architecture.md, Note [Adding a backend]).
/// </summary>
public class CountingBackendTests
{
    private static readonly Device Counting = CountingBackend.Register();

    private static Sequential Cnn(ulong seed)
    {
        var g = new Generator(seed);
        return new Sequential(
            new Conv2d(1, 4, kernelSize: 3, padding: 1, generator: g),
            new BatchNorm2d(4),
            new Relu(),
            new MaxPool2d(2),
            new Dropout(0.25, new Generator(seed + 1)),
            new Flatten(),
            new Linear(4 * 4 * 4, 3, generator: g));
    }

    private static (Tensor X, Tensor Y) Batch() =>
        (Tensor.Randn([6, 1, 8, 8], generator: new Generator(7)), Tensor.FromArray(new long[] { 0, 1, 2, 0, 1, 2 }));

    private static float Step(Module<Tensor, Tensor> model, Optimizer optimizer, Tensor x, Tensor y)
    {
        optimizer.ZeroGrad();
        var loss = Functional.CrossEntropy(model.Forward(x), y);
        loss.Backward();
        optimizer.Step();
        return loss.Item<float>();
    }

    private static void AssertAllOn(Device device, Module model, Optimizer optimizer, string when)
    {
        foreach (var (name, p) in model.NamedParameters())
        {
            Assert.True(p.Device == device, $"{when}: parameter {name} is on {p.Device}, not {device}.");
            if (p.Grad is { } g) Assert.True(g.Device == device, $"{when}: the gradient of {name} is on {g.Device}, not {device}.");
            if (optimizer.GetState(p) is { } state)
                for (int slot = 0; slot < state.Slots; slot++)
                    if (state[slot] is { } buffer)
                        Assert.True(buffer.Device == device, $"{when}: optimizer state {optimizer.StateNames[slot]} of {name} is on {buffer.Device}.");
        }
        foreach (var (name, b) in model.NamedBuffers())
            Assert.True(b.Device == device, $"{when}: buffer {name} is on {b.Device}, not {device}.");
    }

    private static void AssertSameBits(Tensor expected, Tensor actual, string what)
    {
        Assert.True(actual.Device == Counting, $"{what} is on {actual.Device}.");
        var e = expected.ToArray<float>();
        var a = actual.ToArray<float>();
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(e[i]) == BitConverter.SingleToInt32Bits(a[i]), $"{what}[{i}]: {a[i]} on the counting device, {e[i]} on the CPU.");
    }

    [Fact]
    public void A_cnn_trains_saves_and_loads_on_the_counting_device_exactly_as_on_the_cpu()
    {
        var backend = CountingBackend.Instance;
        var (x, y) = Batch();
        var reference = Cnn(1);
        var moved = Cnn(1);
        var referenceOptimizer = new Adam(reference.Parameters(), learningRate: 1e-2);
        var optimizer = new Adam(moved.Parameters(), learningRate: 1e-2);

        // One step on the CPU first, so the optimizer has state and the parameters gradients before the move.
        Assert.Equal(Step(reference, referenceOptimizer, x, y), Step(moved, optimizer, x, y));
        var weight = ((Conv2d)moved[0]).Weight;
        long convCalls = backend.Calls(nameof(IBackend.Conv2d));

        Assert.Same(moved, moved.To(Counting));
        Assert.Same(weight, ((Conv2d)moved[0]).Weight);
        Assert.Same(weight, moved.Parameters().First());
        Assert.Equal(DType.Int64, moved.NamedBuffers().Single(b => b.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Buffer.DType);
        foreach (var p in moved.Parameters()) Assert.True(p.Grad is not null, "gradients follow their parameters (PyTorch keeps them)");
        AssertAllOn(Counting, moved, new Adam(moved.Parameters()), "after To(device)");

        var (cx, cy) = (x.To(Counting), y.To(Counting));
        for (int step = 0; step < 3; step++)
        {
            float expected = Step(reference, referenceOptimizer, x, y);
            float actual = Step(moved, optimizer, cx, cy);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual), $"step {step}: loss {actual} on the counting device, {expected} on the CPU.");
            AssertAllOn(Counting, moved, optimizer, $"after step {step}");
        }
        foreach (var ((name, e), (_, a)) in reference.NamedParameters().Zip(moved.NamedParameters())) AssertSameBits(e, a, name);

        foreach (var kernel in new[] { "Allocate", "Upload", "Conv2d", "Conv2dWeightGrad", "MaxPool2d", "MaxPool2dBackward", "AdamStep", "Softmax" })
            Assert.True(backend.Calls(kernel) > 0, $"the counting backend saw no {kernel} call");
        Assert.True(backend.Calls(nameof(IBackend.Conv2d)) >= convCalls + 3, "each step's convolution ran on the counting backend");

        // Save from the counting device, load into a fresh model there, and compare evaluation outputs with the CPU model's.
        var stream = new MemoryStream();
        SafeTensors.Write(stream, moved.StateDict());
        stream.Position = 0;
        var loaded = Cnn(99).To(Counting);
        loaded.LoadStateDict(SafeTensors.Read(stream, "model").Tensors);
        AssertAllOn(Counting, loaded, new Adam(loaded.Parameters()), "after LoadStateDict");
        reference.Eval();
        loaded.Eval();
        AssertSameBits(reference.Forward(x), loaded.Forward(cx), "evaluation output after the round trip");
    }

    [Fact]
    public void Module_to_dtype_converts_floating_tensors_in_place_and_the_optimizer_follows()
    {
        var (x, y) = Batch();
        var model = Cnn(3);
        var optimizer = new Adam(model.Parameters(), learningRate: 1e-2);
        Step(model, optimizer, x, y);
        var weight = ((Linear)model[6]).Weight;

        model.To(Counting, DType.Float64);

        Assert.Same(weight, ((Linear)model[6]).Weight);
        foreach (var (name, p) in model.NamedParameters())
        {
            Assert.True(p.DType == DType.Float64, $"{name} is {p.DType}");
            Assert.True(p.Grad!.DType == DType.Float64, $"the gradient of {name} is {p.Grad.DType}");
        }
        var buffers = model.NamedBuffers().ToDictionary(b => b.Name, b => b.Buffer.DType);
        Assert.Equal(DType.Float64, buffers["1.running_mean"]);
        Assert.Equal(DType.Int64, buffers["1.num_batches_tracked"]);

        float loss = Step(model, optimizer, x.To(Counting, DType.Float64), y.To(Counting));
        Assert.True(float.IsFinite(loss), $"loss {loss}");
        AssertAllOn(Counting, model, optimizer, "after a Float64 step");
        foreach (var p in model.Parameters())
            for (int slot = 0; slot < 2; slot++)
                Assert.Equal(DType.Float64, optimizer.GetState(p)![slot]!.DType);

        Assert.Throws<ArgumentException>(() => model.To(DType.Int64));
    }

    [Fact]
    public void Factories_and_tensor_to_create_on_the_requested_device()
    {
        Assert.Equal(Counting, Device.Parse(CountingBackend.Name));
        Assert.Equal("counting:0", Counting.ToString());

        var source = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, [2, 3], DType.Float64, Counting);
        Assert.Equal((Counting, DType.Float64), (source.Device, source.DType));
        Assert.Equal(new[] { 1.0, 2, 3, 4, 5, 6 }, source.ToArray<double>());

        Tensor[] made =
        [
            Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 } }, Counting),
            Tensor.Zeros([2], device: Counting), Tensor.Full([2], 3, device: Counting), Tensor.Arange(4, device: Counting),
            Tensor.Linspace(0, 1, 3, device: Counting), Tensor.Eye(2, 3, device: Counting), Tensor.RandInt(0, 5, [3], device: Counting),
            Tensor.ZerosLike(source), Tensor.OnesLike(source, DType.Float32), Tensor.FullLike(source, 2, device: Counting),
            Tensor.RandnLike(source, generator: new Generator(1)), Tensor.RandLike(source, generator: new Generator(1)),
        ];
        foreach (var t in made) Assert.True(t.Device == Counting, $"a {t.Shape} tensor was made on {t.Device}");
        Assert.Equal(DType.Float32, made[8].DType);
        Assert.Equal(new[] { 1.0, 0, 0, 0, 1, 0 }, made[5].ToArray<double>());

        // Tensor.To(device, dtype) is differentiable: the gradient comes back to the CPU in the source's dtype.
        var leaf = Tensor.FromArray(new[] { 1f, -2f }).SetRequiresGrad();
        var far = leaf.To(Counting, DType.Float64);
        Assert.Equal((Counting, DType.Float64), (far.Device, far.DType));
        (far * far).Sum().Backward();
        Assert.Equal((Device.Cpu, DType.Float32), (leaf.Grad!.Device, leaf.Grad.DType));
        Assert.Equal(new[] { 2f, -4f }, leaf.Grad.ToArray<float>());
        Assert.Same(source, source.To(source));
        Assert.Equal("tensor([[1., 2., 3.],\n        [4., 5., 6.]], device='counting:0', dtype=float64)", source.ToString());
        Assert.Equal("tensor([0., 0.], device='counting:0')", made[1].ToString());
    }

    public static TheoryData<string> Layers => [.. LayerZoo().Select(l => l.Name)];

    /// <summary>Every layer, made on the counting device by its constructor, with an input of a shape it accepts.</summary>
    private static IEnumerable<(string Name, Func<Module<Tensor, Tensor>> Make, int[] Input)> LayerZoo()
    {
        var g = new Generator(5);
        return
        [
            ("Linear", () => new Linear(3, 2, generator: g, device: Counting), [4, 3]),
            ("Conv1d", () => new Conv1d(2, 3, 3, padding: 1, generator: g, device: Counting), [2, 2, 5]),
            ("Conv2d", () => new Conv2d(2, 4, 3, stride: 2, padding: 1, groups: 2, generator: g, device: Counting), [2, 2, 5, 5]),
            ("ConvTranspose2d", () => new ConvTranspose2d(2, 3, 3, stride: 2, generator: g, device: Counting), [1, 2, 3, 3]),
            ("BatchNorm1d", () => new BatchNorm1d(3, device: Counting), [4, 3]),
            ("BatchNorm2d", () => new BatchNorm2d(2, device: Counting), [3, 2, 2, 2]),
            ("GroupNorm", () => new GroupNorm(2, 4, device: Counting), [2, 4, 3]),
            ("LayerNorm", () => new LayerNorm(3, device: Counting), [2, 3]),
            ("MaxPool2d", () => new MaxPool2d(2), [1, 2, 4, 4]),
            ("AvgPool2d", () => new AvgPool2d(2, padding: 1, countIncludePad: false), [1, 2, 4, 4]),
            ("AdaptiveAvgPool2d", () => new AdaptiveAvgPool2d(2), [1, 2, 5, 5]),
            ("Upsample", () => new Upsample(scaleFactor: 2), [1, 2, 2, 3]),
            ("Dropout", () => new Dropout(0.5, new Generator(1)), [4, 5]),
            ("Dropout2d", () => new Dropout2d(0.5, new Generator(1)), [2, 3, 2, 2]),
            ("Activations", () => new Sequential(new Relu(), new Gelu(), new Silu(), new Elu(), new LeakyRelu(), new Softplus(), new Sigmoid(),
                new Tanh(), new Softmax(-1), new LogSoftmax(-1)), [2, 5]),
            ("Residual", () => new Residual(new Sequential(new Linear(3, 3, generator: g, device: Counting), new Tanh())), [2, 3]),
            ("Flatten", () => new Flatten(), [2, 3, 2]),
        ];
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Every_layer_made_on_the_counting_device_runs_forward_and_backward_there(string name)
    {
        var (_, make, shape) = LayerZoo().Single(l => l.Name == name);
        var layer = make();
        AssertAllOn(Counting, layer, new Sgd([Tensor.Zeros([1], device: Counting).SetRequiresGrad()]), $"{name} as constructed");
        var x = Tensor.Randn(shape, generator: new Generator(2), device: Counting, requiresGrad: true);
        var y = layer.Forward(x);
        Assert.True(y.Device == Counting, $"{name} output is on {y.Device}");
        (y * y).Sum().Backward();
        Assert.True(x.Grad!.Device == Counting, $"{name} input gradient is on {x.Grad.Device}");
        foreach (var (param, p) in layer.NamedParameters())
            Assert.True(p.Grad!.Device == Counting, $"{name}: the gradient of {param} is on {p.Grad.Device}");
    }

    [Fact]
    public void Embedding_losses_optimizers_clipping_and_checkpoints_stay_on_the_counting_device()
    {
        var g = new Generator(11);
        var embedding = new Embedding(5, 3, paddingIndex: 0, generator: g, device: Counting);
        var head = new Linear(3, 4, generator: g, device: Counting);
        var indices = Tensor.FromArray(new long[] { 1, 0, 4, 2 }, [4], device: Counting);
        var logits = head.Forward(embedding.Forward(indices));
        var classes = Tensor.FromArray(new long[] { 3, 0, 1, 2 }, [4], device: Counting);
        var probabilities = logits.Sigmoid();
        var targets = Tensor.Rand([4, 4], generator: g, device: Counting);
        Tensor[] losses =
        [
            Functional.CrossEntropy(logits, classes, weight: Tensor.Ones([4], device: Counting), labelSmoothing: 0.1),
            Functional.NllLoss(logits.LogSoftmax(-1), classes),
            Functional.MseLoss(logits, targets), Functional.L1Loss(logits, targets), Functional.HuberLoss(logits, targets),
            Functional.SmoothL1Loss(logits, targets), Functional.BinaryCrossEntropy(probabilities, targets),
            Functional.BinaryCrossEntropyWithLogits(logits, targets, posWeight: Tensor.Full([4], 2, device: Counting)),
        ];
        foreach (var loss in losses) Assert.True(loss.Device == Counting, $"a loss is on {loss.Device}");
        Tensor.Stack(losses).Sum().Backward();

        var parameters = embedding.Parameters().Concat(head.Parameters()).ToList();
        GradientClipping.ClipGradNorm(parameters, 0.5);
        GradientClipping.ClipGradValue(parameters, 0.1);
        Optimizer[] optimizers =
        [
            new Sgd(parameters, learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01),
            new RmsProp(parameters, momentum: 0.5, centered: true, weightDecay: 0.01),
            new Adagrad(parameters, learningRateDecay: 0.1, initialAccumulatorValue: 0.1),
            new AdamW(parameters, amsgrad: true),
        ];
        var model = new Sequential(head);
        foreach (var optimizer in optimizers)
        {
            optimizer.Step();
            AssertAllOn(Counting, model, optimizer, optimizer.GetType().Name);
            var checkpoint = new Checkpoint();
            optimizer.SaveState(checkpoint, "optim.");
            model.SaveState(checkpoint, "model.");
            var path = Path.Combine(Path.GetTempPath(), $"counting-{Guid.NewGuid():N}.safetensors");
            try
            {
                checkpoint.Save(path);
                var restored = Checkpoint.Load(path);
                optimizer.LoadState(restored, "optim.");
                model.LoadState(restored, "model.");
            }
            finally { File.Delete(path); }
            AssertAllOn(Counting, model, optimizer, optimizer.GetType().Name + " after loading its checkpoint");
            optimizer.Step();
        }
    }

    [Fact]
    public void Data_loaders_batch_tensors_that_live_on_the_counting_device_and_move_cpu_batches_there()
    {
        var xs = Tensor.Arange(12, device: Counting).Reshape(6, 2);
        var ys = Tensor.FromArray(new long[] { 0, 1, 2, 3, 4, 5 }, [6], device: Counting);
        var seen = new List<long>();
        foreach (var (x, y) in new DataLoader(new TensorDataset(xs, ys), batchSize: 4, shuffle: true, generator: new Generator(3)))
        {
            Assert.Equal((Counting, Counting), (x.Device, y.Device));
            var labels = y.ToArray<long>();
            var features = x.ToArray<float>();
            for (int i = 0; i < labels.Length; i++) Assert.Equal(new[] { 2f * labels[i], 2f * labels[i] + 1 }, features[(2 * i)..(2 * i + 2)]);
            seen.AddRange(labels);
        }
        Assert.Equal([0, 1, 2, 3, 4, 5], seen.Order());

        var cpuBatch = new DataLoader(new TensorDataset(Tensor.Ones([3, 2]), Tensor.Zeros([3], DType.Int64)), batchSize: 3).Single();
        var moved = cpuBatch.To(Counting);
        Assert.Equal((Counting, Counting), (moved.Inputs.Device, moved.Targets.Device));
        Assert.Equal(cpuBatch.Indices, moved.Indices);
        Assert.Same(moved, moved.To(Counting));
    }

    [Fact]
    public void Module_to_keeps_the_values_of_a_non_contiguous_parameter_and_its_gradient()
    {
        var module = new Sequential();
        var transposed = new Parameter(Tensor.FromArray(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3).T);
        module.RegisterParameter("w", transposed);
        module.RegisterBuffer("scale", Tensor.Full([2], 0.5, DType.Float64));
        (transposed * Tensor.FromArray(new[] { 1f, 10f }, 1, 2)).Sum().Backward();
        Assert.False(transposed.IsContiguous);

        module.To(Counting, DType.Float64);

        Assert.Equal((Counting, DType.Float64), (transposed.Device, transposed.DType));
        Assert.Equal(new[] { 1.0, 4, 2, 5, 3, 6 }, transposed.ToArray<double>());
        Assert.Equal(new[] { 1.0, 10, 1, 10, 1, 10 }, transposed.Grad!.ToArray<double>());
        Assert.Equal((Counting, DType.Float64), (module.GetBuffer("scale")!.Device, module.GetBuffer("scale")!.DType));
        // The rebound leaf takes new gradients in its new dtype and device.
        transposed.ZeroGrad();
        (transposed * 2.0).Sum().Backward();
        Assert.Equal((Counting, DType.Float64), (transposed.Grad!.Device, transposed.Grad.DType));
        Assert.Equal(new[] { 2.0, 2, 2, 2, 2, 2 }, transposed.Grad.ToArray<double>());
    }

    [Fact]
    public void A_private_use_name_must_not_shadow_a_built_in_device()
    {
        Assert.Throws<ArgumentException>(() => BackendRegistry.RegisterPrivateUse1("cuda", _ => CountingBackend.Instance));
        Assert.Throws<ArgumentException>(() => BackendRegistry.RegisterPrivateUse1("Counting", _ => CountingBackend.Instance));
        Assert.Throws<ArgumentException>(() => BackendRegistry.Register(DeviceType.Cpu, _ => CountingBackend.Instance));
        Assert.Equal(CountingBackend.Name, BackendRegistry.PrivateUse1Name);
        Assert.Equal(new Device(DeviceType.PrivateUse1, 2), Device.Parse("counting:2"));
        Assert.Throws<FormatException>(() => Device.Parse("tpu"));
    }

    [Fact]
    public void The_counting_backend_refuses_an_operand_that_bypassed_it()
    {
        // What makes the model test meaningful: CPU storage reaching a counting kernel fails instead of passing silently.
        var onCpu = Tensor.Ones([3]);
        var counted = Tensor.Zeros([3], device: Counting);
        var error = Assert.Throws<InvalidOperationException>(() => CountingBackend.Instance.Copy(onCpu.Strided, counted.Strided));
        Assert.Contains("lives on cpu", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => onCpu + counted);
    }
}
