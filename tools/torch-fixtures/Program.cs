// Writes the PyTorch-side fixtures of Backprop's interoperability tests with libtorch itself (TorchSharp 0.107.0,
// libtorch 2.10 CPU) and TorchSharp.PyBridge 1.4.4's safetensors writer and reader: an implementation independent
// of Backprop's. Run by generate.sh, once; the files it writes are committed and the tests only read them.
//
//   TorchFixtures write DIR   writes DIR/torch/*.safetensors and DIR/torch/values.json (every value as libtorch holds it)
//   TorchFixtures check DIR   loads DIR/backprop/*.safetensors (files Backprop wrote) and writes DIR/backprop/check.json
using System.Globalization;
using System.Text.Json;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

if (args.Length != 2 || args[0] is not ("write" or "check"))
{
    Console.Error.WriteLine("usage: TorchFixtures write|check DIR");
    return 2;
}
var root = args[1];
if (args[0] == "check")
{
    var dir = Path.Combine(root, "backprop");
    var report = new SortedDictionary<string, object>(StringComparer.Ordinal);
    foreach (var file in Directory.GetFiles(dir, "*.safetensors").Order(StringComparer.Ordinal))
        report[Path.GetFileName(file)] = Describe(Safetensors.LoadStateDict(file));
    File.WriteAllText(Path.Combine(dir, "check.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    Console.WriteLine($"libtorch read {report.Count} files written by Backprop; see {Path.Combine(dir, "check.json")}");
    return 0;
}

var outDir = Path.Combine(root, "torch");
Directory.CreateDirectory(outDir);
torch.manual_seed(0);
var values = new SortedDictionary<string, object>(StringComparer.Ordinal);

void Save(string name, Dictionary<string, Tensor> tensors)
{
    Safetensors.SaveStateDict(Path.Combine(outDir, name), tensors);
    values[name] = Describe(tensors);
}

float[] halfSource = [1f, -2.5f, 65504f, 6.1035156e-05f, 5.9604645e-08f, 0.1f, -0f, float.PositiveInfinity];
Save("dtypes.safetensors", new Dictionary<string, Tensor>
{
    ["f32"] = tensor(new float[] { 0f, -0f, 1.5f, -2.25f, float.MaxValue, float.Epsilon }).reshape(2, 3),
    ["f32_special"] = tensor(new float[] { float.PositiveInfinity, float.NegativeInfinity, float.NaN }),
    ["f64"] = tensor(new double[] { Math.PI, -Math.E, 1e-300, 1e300 }),
    ["f16"] = tensor(halfSource).to_type(ScalarType.Float16),
    ["bf16"] = tensor(halfSource).to_type(ScalarType.BFloat16),
    ["i64"] = tensor(new long[] { long.MinValue, -1, 0, 1, (1L << 53) + 1, long.MaxValue }),
    ["i32"] = tensor(new int[] { int.MinValue, -1, 0, 7, int.MaxValue }),
    ["bool"] = tensor(new bool[] { true, false, true }),
    ["scalar"] = tensor(42.5f),
    ["empty"] = zeros(0, 3),
    ["strided_source"] = arange(12, dtype: ScalarType.Float32).reshape(3, 4).t().contiguous(),
});

// An MLP and a CNN with PyTorch's default initialisation, their state dicts under PyTorch's names, and one input with
// the output libtorch computes for it (in evaluation mode), so the tests can check the whole model, not just tensors.
var mlp = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3));
mlp.eval();
var mlpInput = randn(5, 4);
Save("mlp.safetensors", mlp.state_dict());
Save("mlp_io.safetensors", new Dictionary<string, Tensor> { ["input"] = mlpInput, ["output"] = mlp.forward(mlpInput).detach() });

var cnn = nn.Sequential(
    nn.Conv2d(1, 4, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(4, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 2 * 2, 5));
cnn.train();
using (no_grad()) cnn.forward(randn(6, 1, 8, 8) * 2 + 0.5);   // running statistics away from their initial 0 and 1
cnn.eval();
var cnnInput = randn(2, 1, 8, 8);
Save("cnn.safetensors", cnn.state_dict());
Save("cnn_io.safetensors", new Dictionary<string, Tensor> { ["input"] = cnnInput, ["output"] = cnn.forward(cnnInput).detach() });

File.WriteAllText(Path.Combine(outDir, "values.json"), JsonSerializer.Serialize(values, new JsonSerializerOptions { WriteIndented = true }) + "\n");
Console.WriteLine($"wrote {values.Count} files to {outDir} with libtorch {torch.__version__}");
return 0;

// Each tensor's dtype, shape and values as libtorch holds them: floats in round-trip form (with "NaN", "Infinity",
// "-0"), integers exactly.
static SortedDictionary<string, object> Describe(IDictionary<string, Tensor> tensors)
{
    var result = new SortedDictionary<string, object>(StringComparer.Ordinal);
    foreach (var (name, t) in tensors)
    {
        var flat = t.detach().contiguous().reshape(-1);
        object[] items = t.dtype switch
        {
            ScalarType.Int64 => [.. flat.data<long>().ToArray().Select(v => (object)v.ToString(CultureInfo.InvariantCulture))],
            ScalarType.Int32 => [.. flat.data<int>().ToArray().Select(v => (object)v.ToString(CultureInfo.InvariantCulture))],
            ScalarType.Bool => [.. flat.data<bool>().ToArray().Select(v => (object)(v ? "true" : "false"))],
            _ => [.. flat.to_type(ScalarType.Float64).data<double>().ToArray().Select(v => (object)Format(v))],
        };
        result[name] = new Dictionary<string, object> { ["dtype"] = t.dtype.ToString(), ["shape"] = t.shape, ["values"] = items };
    }
    return result;
}

static string Format(double v) => double.IsNegative(v) && v == 0 ? "-0" : v.ToString("R", CultureInfo.InvariantCulture);
