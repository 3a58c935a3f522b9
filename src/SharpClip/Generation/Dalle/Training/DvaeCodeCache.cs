using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SharpClip.Data;
using SharpClip.Data.Loading;
using SharpClip.Files;
using SharpClip.Generation.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Generation.Dalle.Training;

/// <summary>
/// The frozen dVAE's codes of every training image, computed once. The transformer's targets are the argmax codes of
/// the encoder (the paper's, and <see cref="DiscreteVae.Encode"/>'s), and the training images are only resized and
/// centre-cropped (no random augmentation), so an image's codes are the same in every epoch: encoding each batch again,
/// as the trainer first did, spent most of a step recomputing them. The codes are kept by sample key in memory and in
/// <see cref="FileName"/> inside the run folder, stamped with a fingerprint of what they depend on — the encoder's
/// weights, the data spec and options, the image size — so a resumed run reads them back and a cache made with another
/// dVAE or other data is rebuilt, never used.
/// </summary>
public sealed class DvaeCodeCache
{
    public const string FileName = "dvae_codes.safetensors";
    const string Format = "sharpclip-dvae-codes-1";
    const string CodesTensor = "codes";

    readonly Dictionary<string, int> _rows;
    readonly int[] _codes;   // [images, tokens] row-major

    DvaeCodeCache(string path, string fingerprint, Dictionary<string, int> rows, int[] codes, int tokensPerImage)
    {
        Path = path;
        Fingerprint = fingerprint;
        _rows = rows;
        _codes = codes;
        TokensPerImage = tokensPerImage;
    }

    /// <summary>The cache file.</summary>
    public string Path { get; }

    /// <summary>Hex SHA-256 of the encoder weights, data spec and options, image size and the cache format.</summary>
    public string Fingerprint { get; }

    /// <summary>Images encoded.</summary>
    public int Count => _rows.Count;

    /// <summary>Codes per image (grid²).</summary>
    public int TokensPerImage { get; }

    /// <summary>Whether the sample with this key has codes (it does unless its image could not be read).</summary>
    public bool Contains(string key) => _rows.ContainsKey(key);

    /// <summary>The codes of the samples with these keys, in order: [keys.Count, TokensPerImage] int64.</summary>
    public Tensor Lookup(IReadOnlyList<string> keys)
    {
        var flat = new long[checked(keys.Count * TokensPerImage)];
        for (int i = 0; i < keys.Count; i++)
        {
            if (!_rows.TryGetValue(keys[i], out int row))
                throw new InvalidDataException($"{Path}: no codes for sample '{keys[i]}' (the data changed since the cache was made? delete the file to rebuild it)");
            Array.Copy(_codes, row * TokensPerImage, flat, i * TokensPerImage, TokensPerImage);   // int → long, row by row
        }
        return torch.tensor(flat, [keys.Count, TokensPerImage]);
    }

    /// <summary>
    /// The cache in <paramref name="folder"/> if its fingerprint matches; else every image of the data encoded with
    /// <paramref name="dvae"/> (in file order, batches of <paramref name="batchSize"/>) and written there. Images that
    /// cannot be read are skipped, as the training loader skips them.
    /// </summary>
    /// <param name="folder">The run folder the cache file lives in.</param>
    /// <param name="dvae">The frozen dVAE whose argmax codes are the transformer's targets.</param>
    /// <param name="data">The data spec (<c>emoji:train</c>, a file, a folder).</param>
    /// <param name="options">The data's options.</param>
    /// <param name="imageSize">Images are resized and centre-cropped to this side before encoding.</param>
    /// <param name="batchSize">Images per encoder call.</param>
    /// <param name="workers">Decoding threads (null = one per core).</param>
    /// <param name="info">Progress lines ("encoding N images with the dVAE").</param>
    /// <param name="cancellationToken">Stops the encoding pass.</param>
    public static DvaeCodeCache Open(string folder, DiscreteVae dvae, string data, DataSourceOptions? options, int imageSize,
        int batchSize, int? workers, Action<string>? info = null, CancellationToken cancellationToken = default)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        var fingerprint = FingerprintOf(dvae, data, options, imageSize);
        if (File.Exists(path))
        {
            if (TryRead(path, fingerprint, out var cached, out var why)) return cached!;
            info?.Invoke($"{path}: {why}; encoding the images again");
        }
        return Build(path, fingerprint, dvae, data, options, imageSize, batchSize, workers, info, cancellationToken);
    }

    static DvaeCodeCache Build(string path, string fingerprint, DiscreteVae dvae, string data, DataSourceOptions? options, int imageSize,
        int batchSize, int? workers, Action<string>? info, CancellationToken cancellationToken)
    {
        var source = ImageTextSources.Open(data, options);
        var loader = new ClipDataLoader(source, GenerativeRun.UnitPixelPipeline(imageSize), captions => [.. captions.Select(_ => new long[1])],
            ClipLoaderOptions.ForEvaluation(batchSize, imageSize) with { Workers = workers ?? Math.Max(1, Environment.ProcessorCount) });
        info?.Invoke($"encoding {(source.CountHint is { } n ? $"{n:N0} " : "the ")}images of {source.Name} with the dVAE (once; cached in {path})");
        var started = System.Diagnostics.Stopwatch.StartNew();
        var rows = new Dictionary<string, int>(StringComparer.Ordinal);
        var codes = new List<int>();
        int tokens = -1;
        foreach (var batch in loader.ReadEpoch(0, 0, cancellationToken))
        {
            using var scope = torch.NewDisposeScope();
            var pixels = torch.tensor(batch.Pixels, [batch.Count, 3, imageSize, imageSize]);   // [batch, 3, s, s] in [0, 1]
            using var encoding = dvae.Encode(pixels);
            var flat = encoding.Tokens.reshape(batch.Count, -1).to(ScalarType.Int32);            // [batch, grid²]
            tokens = (int)flat.shape[1];
            var values = flat.data<int>().ToArray();
            for (int i = 0; i < batch.Count; i++)
            {
                var row = values.AsSpan(i * tokens, tokens);
                if (rows.TryGetValue(batch.Keys[i], out int earlier))
                {
                    if (!row.SequenceEqual(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(codes).Slice(earlier * tokens, tokens)))
                        throw new InvalidDataException($"{source.Name}: the key '{batch.Keys[i]}' names two different images; the dVAE code cache needs one image per key");
                    continue;
                }
                rows[batch.Keys[i]] = rows.Count;
                codes.AddRange(row);
            }
        }
        if (rows.Count == 0) throw new InvalidDataException($"{source.Name}: no readable image to encode ({loader.Stats})");
        var cache = new DvaeCodeCache(path, fingerprint, rows, [.. codes], tokens);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        cache.Write();
        info?.Invoke($"encoded {rows.Count:N0} images in {started.Elapsed.TotalSeconds:F0} s ({loader.Stats})");
        return cache;
    }

    void Write()
    {
        var keys = new string[_rows.Count];
        foreach (var (key, row) in _rows) keys[row] = key;
        var bytes = new byte[_codes.Length * sizeof(int)];
        Buffer.BlockCopy(_codes, 0, bytes, 0, bytes.Length);
        SafeTensorsWriter.Write(Path,
            new Dictionary<string, SafeTensorsWriter.Entry> { [CodesTensor] = new(SafeTensorsDType.I32, [Count, TokensPerImage], bytes) },
            new Dictionary<string, string> { ["format"] = Format, ["fingerprint"] = Fingerprint, ["keys"] = JsonSerializer.Serialize(keys) });
    }

    static bool TryRead(string path, string fingerprint, out DvaeCodeCache? cache, out string why)
    {
        cache = null;
        try
        {
            using var file = SafeTensorsFile.Open(path);
            if (!file.Metadata.TryGetValue("format", out var format) || format != Format) { why = "not a dVAE code cache of this version"; return false; }
            if (!file.Metadata.TryGetValue("fingerprint", out var stored) || stored != fingerprint) { why = "made with another dVAE, data or image size"; return false; }
            var keys = JsonSerializer.Deserialize<string[]>(file.Metadata.TryGetValue("keys", out var k) ? k : "null");
            var info = file.Info(CodesTensor);
            if (keys is null || info.DType != SafeTensorsDType.I32 || info.Shape.Length != 2 || info.Shape[0] != keys.Length)
            { why = "its keys and codes do not agree"; return false; }
            var codes = new int[info.ElementCount];
            file.RawBytes(CodesTensor).CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(codes.AsSpan()));
            var rows = new Dictionary<string, int>(keys.Length, StringComparer.Ordinal);
            for (int i = 0; i < keys.Length; i++) rows[keys[i]] = i;
            cache = new DvaeCodeCache(path, fingerprint, rows, codes, (int)info.Shape[1]);
            why = "";
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or KeyNotFoundException or IOException)
        {
            why = $"unreadable ({e.Message})";
            return false;
        }
    }

    /// <summary>SHA-256 over the cache format, the encoder's state dict (names, dtypes, shapes, bytes, in name order),
    /// the data spec and options and the image size: everything the codes are a function of.</summary>
    static string FingerprintOf(DiscreteVae dvae, string data, DataSourceOptions? options, int imageSize)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Text(string s) { hash.AppendData(Encoding.UTF8.GetBytes(s)); hash.AppendData([0]); }
        Text(Format);
        using (var scope = torch.NewDisposeScope())
            foreach (var (name, tensor) in dvae.Encoder.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var t = tensor.detach().cpu().contiguous();
                Text($"{name}:{t.dtype}:[{string.Join(",", t.shape)}]");
                hash.AppendData(t.bytes);
            }
        Text(data);
        Text(JsonSerializer.Serialize(options, GenerativeConfigJson.Options));
        Text(imageSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }
}
