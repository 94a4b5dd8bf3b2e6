using System.Collections;
using Backprop.IO;

namespace Backprop.Tests.IO;

public class CheckpointTests
{
    private static Checkpoint Sample()
    {
        var checkpoint = new Checkpoint();
        checkpoint.Tensors["model.weight"] = Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 } });
        checkpoint.Tensors["optimizer.step"] = Tensor.Scalar(12, DType.Int64);
        checkpoint.Metadata["epoch"] = "3";
        return checkpoint;
    }

    [Fact]
    public void Save_and_load_round_trip_tensors_and_metadata()
    {
        using var dir = new TempDirectory();
        var path = dir.File("ckpt.safetensors");

        Sample().Save(path);
        var loaded = Checkpoint.Load(path);

        Assert.Equal(new float[] { 1, 2, 3, 4 }, loaded.GetTensor("model.weight").ToArray<float>());
        Assert.Equal(12, loaded.GetTensor("optimizer.step").Item<long>());
        Assert.Equal("3", loaded.GetMetadata("epoch"));
        Assert.Equal(["ckpt.safetensors"], dir.Entries());
    }

    [Fact]
    public void Saving_over_an_existing_checkpoint_replaces_it()
    {
        using var dir = new TempDirectory();
        var path = dir.File("ckpt.safetensors");
        Sample().Save(path);

        var second = new Checkpoint();
        second.Tensors["only"] = Tensor.Ones(3);
        second.Save(path);

        Assert.Equal(["only"], Checkpoint.Load(path).Tensors.Keys);
        Assert.Equal(["ckpt.safetensors"], dir.Entries());
    }

    [Fact]
    public void A_write_that_fails_part_way_leaves_the_previous_file_and_no_temporary_file()
    {
        using var dir = new TempDirectory();
        var path = dir.File("ckpt.safetensors");
        Sample().Save(path);
        var before = File.ReadAllBytes(path);

        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[4096]);
            stream.Flush();
            throw new IOException("disk full");
        }));

        Assert.Equal("disk full", e.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["ckpt.safetensors"], dir.Entries());
    }

    [Fact]
    public void Metadata_that_fails_while_being_written_leaves_the_previous_checkpoint()
    {
        using var dir = new TempDirectory();
        var path = dir.File("ckpt.safetensors");
        Sample().Save(path);
        var before = File.ReadAllBytes(path);

        Assert.Throws<InvalidOperationException>(() =>
            SafeTensors.Save(path, Sample().Tensors, new ThrowingMetadata()));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["ckpt.safetensors"], dir.Entries());
    }

    [Fact]
    public void A_rename_that_fails_removes_the_temporary_file()
    {
        using var dir = new TempDirectory();
        var target = dir.File("taken");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "keep.txt"), "x");

        Assert.ThrowsAny<IOException>(() => Sample().Save(target));

        Assert.Equal(["taken"], dir.Entries());
        Assert.True(File.Exists(Path.Combine(target, "keep.txt")));
    }

    [Fact]
    public void State_dicts_save_and_load_as_plain_safetensors()
    {
        using var dir = new TempDirectory();
        var path = dir.File("weights.safetensors");
        var weights = new Dictionary<string, Tensor> { ["fc.weight"] = Tensor.Eye(3), ["fc.bias"] = Tensor.Zeros(3) };

        Checkpoint.SaveStateDict(path, weights);
        var loaded = Checkpoint.LoadStateDict(path);

        Assert.Equal(Tensor.Eye(3).ToArray<float>(), loaded["fc.weight"].ToArray<float>());
        Assert.Equal(new Shape(3), loaded["fc.bias"].Shape);
        Assert.Empty(SafeTensors.Load(path).Metadata);
    }

    [Fact]
    public void A_generator_restored_from_a_checkpoint_file_continues_the_same_sequence()
    {
        using var dir = new TempDirectory();
        var generator = new Generator(123);
        generator.NextNormal(); // leaves a spare normal in the state, which must survive too
        var checkpoint = new Checkpoint();
        checkpoint.SetGenerator("rng", generator);
        checkpoint.Save(dir.File("rng.safetensors"));
        var expected = new[] { generator.NextNormal(), generator.NextDouble(), generator.NextNormal() };

        var restored = new Generator(0);
        Checkpoint.Load(dir.File("rng.safetensors")).RestoreGenerator("rng", restored);

        Assert.Equal(expected, new[] { restored.NextNormal(), restored.NextDouble(), restored.NextNormal() });
    }

    [Fact]
    public void Missing_and_malformed_entries_are_named()
    {
        var checkpoint = Sample();
        checkpoint.Metadata["rng"] = "not base64!";

        var missing = Assert.Throws<KeyNotFoundException>(() => checkpoint.GetTensor("model.bias"));
        var badState = Assert.Throws<InvalidDataException>(() => checkpoint.RestoreGenerator("rng", new Generator()));

        Assert.Equal("Checkpoint: no tensor 'model.bias' (it has: model.weight).", missing.Message);
        Assert.Contains("'rng' is not a generator state", badState.Message);
    }

    private sealed class ThrowingMetadata : IReadOnlyDictionary<string, string>
    {
        public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
        {
            yield return new("first", "fine");
            throw new InvalidOperationException("metadata source failed");
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public int Count => 2;

        public bool ContainsKey(string key) => false;

        public bool TryGetValue(string key, out string value)
        {
            value = "";
            return false;
        }

        public string this[string key] => throw new KeyNotFoundException();

        public IEnumerable<string> Keys => [];

        public IEnumerable<string> Values => [];
    }
}
