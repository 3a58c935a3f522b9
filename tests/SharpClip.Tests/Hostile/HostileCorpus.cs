using System.Text;
using System.Text.Json.Nodes;
using SharpClip.Checkpoints;
using SharpClip.Vision;
using SharpClip.Tests.Checkpoints;
using SharpClip.Tests.Infrastructure;
using SharpClip.Tests.Vision;
using static SharpClip.Tests.Hostile.HostileCategory;
using static SharpClip.Tests.Hostile.HostileImages;

namespace SharpClip.Tests.Hostile;

/// <summary>
/// Every hostile input of issue 15's families, made in a temp folder on demand: images, checkpoints, configs, caption
/// files and folders. Adding the next one is one line in <see cref="Build"/>; <see cref="HostileCorpusTests"/> runs
/// each through the entry point that reads it.
/// </summary>
public static class HostileCorpus
{
    static readonly Lazy<IReadOnlyList<HostileInput>> _all = new(() => Build().ToList());

    public static IReadOnlyList<HostileInput> All => _all.Value;

    public static HostileInput Named(string name) => All.Single(i => i.ToString() == name);

    static IEnumerable<HostileInput> Build()
    {
        // ---- Images: every format cut at three points, lying about its size, huge, empty, misnamed.
        foreach (var (format, valid) in Valid)
        {
            string ext = format.StartsWith("WEBP", StringComparison.Ordinal) ? "webp" : format.ToLowerInvariant();
            foreach (var where in new[] { "inside the header", "right after the header", "in the data" })
                yield return Image($"{format} cut {where}", $"cut.{ext}", () => Cut(valid(), where));
            // A JPEG or GIF whose data ends (with its end marker) before the declared rows is padded, by Pillow too.
            yield return Image($"{format} header claims twice the height of its data", $"lying.{ext}", () => WithSize(format, valid(), Width, 2 * Height),
                format is "JPEG" or "GIF" ? Expectation.Read : Expectation.Error);
        }
        yield return Image("PNG of 20000x20000 (decompression bomb)", "bomb.png", () => TestImages.PngHeaderOnly(20000, 20000));
        yield return Image("PNG 4294967295 pixels wide", "wide.png", () => TestImages.PngHeaderOnly(4294967295, 3));
        yield return Image("JPEG of 65535x65535", "bomb.jpg", () => WithSize("JPEG", Valid["JPEG"](), 65535, 65535));
        yield return Image("GIF of 65535x65535", "bomb.gif", () => WithSize("GIF", Valid["GIF"](), 65535, 65535));
        yield return Image("BMP of 100000x100000", "bomb.bmp", () => WithSize("BMP", Valid["BMP"](), 100000, 100000));
        yield return Image("WebP canvas of 16384x16384", "bomb.webp", () => WebPCanvasOnly(16384, 16384));
        yield return Image("PNG 0 pixels wide", "zero.png", () => TestImages.PngHeaderOnly(0, 10));
        yield return Image("JPEG 0 pixels high", "zero.jpg", () => WithSize("JPEG", Valid["JPEG"](), Width, 0));
        yield return Image("GIF of 0x0", "zero.gif", () => WithSize("GIF", Valid["GIF"](), 0, 0));
        yield return Image("BMP 0 pixels wide", "zero.bmp", () => WithSize("BMP", Valid["BMP"](), 0, Height));
        yield return Image("zero-byte file", "empty.jpg", () => []);
        yield return Image("text file named .png", "notes.png", () => "hello, this is text\n"u8.ToArray());
        yield return Image("TIFF (a format the reference does not read)", "scan.tif", () => [0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0, 0, 0, 0, 0]);
        yield return Image("PNG with its IHDR checksum broken", "crc.png", () => Valid["PNG"]().Select((b, i) => i == 30 ? (byte)(b ^ 1) : b).ToArray());
        yield return Image("PNG with scrambled pixel data", "scrambled.png", () => Valid["PNG"]().Select((b, i) => i > 60 && i < 300 ? (byte)(b ^ 0x5A) : b).ToArray());
        yield return Image("PNG named .jpg (read by content, as Pillow does)", "photo.jpg", () => Valid["PNG"](), Expectation.Read);
        yield return Image("ICO named .png (read by content, as Pillow does)", "icon.png", () => Valid["ICO"](), Expectation.Read);
        yield return Image("ICO directory listing 3 images, cut after the first entry", "short.ico", () => WithEntryCount(Valid["ICO"]()[..22], 3));
        yield return Image("ICO directory listing no images", "none.ico", () => WithEntryCount(Valid["ICO"](), 0));
        yield return Image("ICO entry pointing past the end of the file", "far.ico", () => WithEntryOffset(Valid["ICO"](), 1 << 30));
        yield return Image("ICO entry whose size reaches before the file (AND mask nowhere)", "mask.ico", () => WithEntrySize(WithEntryBpp(Valid["ICO"](), 24), 3));

        // ---- Checkpoints: safetensors that lie, non-finite weights, pickles that want to run code.
        yield return Checkpoint("safetensors cut in half", "cut.safetensors", dir => File.ReadAllBytes(ModelWeights)[..(int)(new FileInfo(ModelWeights).Length / 2)]);
        yield return Checkpoint("safetensors header length beyond the file", "long.safetensors", _ => [.. BitConverter.GetBytes(1L << 40), .. "{}"u8]);
        yield return Checkpoint("safetensors header length negative", "negative.safetensors", _ => [.. BitConverter.GetBytes(-8L), .. "{}      "u8]);
        yield return Checkpoint("safetensors header that is not JSON", "garbage.safetensors", _ => [.. BitConverter.GetBytes(8L), .. "{{{{{{{{"u8]);
        yield return Checkpoint("safetensors shape whose byte count overflows", "overflow.safetensors",
            _ => SafeTensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387905,4],\"data_offsets\":[0,16]}}", 16), Mentions: "'w'");
        yield return Checkpoint("safetensors offsets past the data", "offsets.safetensors",
            _ => SafeTensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,4000]}}", 16), Mentions: "'w'");
        yield return Checkpoint("safetensors with an unknown dtype", "dtype.safetensors",
            _ => SafeTensors("{\"w\":{\"dtype\":\"Q7\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16), Mentions: "'w'");
        yield return Checkpoint("model weights with a NaN", "nan.safetensors", _ => WithNaN(), Mentions: "ln_final.weight");
        yield return Checkpoint("protocol-0 pickle calling os.system", "evil.pkl", _ => "cos\nsystem\n(S'touch sharpclip_pwned_marker'\ntR."u8.ToArray(), Mentions: "os.system");
        yield return Checkpoint("torch zip whose pickle calls os.system", "evil.pt", _ => File.ReadAllBytes(CheckpointTestData.PathOf("malicious_os_system.pt")));
        yield return Checkpoint("legacy torch file calling os.system", "evil.legacy.pt", _ => File.ReadAllBytes(CheckpointTestData.PathOf("malicious_os_system.legacy.pt")));
        yield return Checkpoint("protocol-4 pickle calling eval", "eval.pkl", _ => File.ReadAllBytes(CheckpointTestData.PathOf("malicious_eval_protocol4.pkl")));
        yield return Checkpoint("pickle with a 4 GB string length", "long-string.pkl", _ => [0x80, 2, 0x58, 0xFF, 0xFF, 0xFF, 0xFF, (byte)'a', (byte)'.']);
        yield return Checkpoint("torch file whose storage lies about its size", "lying_storage.pt", _ => File.ReadAllBytes(CheckpointTestData.PathOf("lying_storage.pt")));
        yield return Checkpoint("random bytes named .pt", "noise.pt", _ => TestImages.Noise(4096, 9));
        yield return Checkpoint("zero-byte weights file", "empty.safetensors", _ => []);

        // ---- Configs: a Hugging Face config.json edited, and training configs with the wrong kinds of value.
        // Layer counts are checked against the weights before anything is built; the error says what the config declares.
        yield return HfConfig("1,000,000,000 text layers", "text_config", "num_hidden_layers", "1000000000", "config.json: text_config.num_hidden_layers), the weights hold");
        yield return HfConfig("100,000 vision layers", "vision_config", "num_hidden_layers", "100000", "config.json: vision_config.num_hidden_layers), the weights hold");
        yield return HfConfig("fractional hidden_size", "text_config", "hidden_size", "128.5");
        yield return HfConfig("patch_size as a string", "vision_config", "patch_size", "\"8\"");
        yield return HfConfig("non-numeric layer_norm_eps", "text_config", "layer_norm_eps", "\"x\"");
        yield return HfConfig("hidden_act as a number", "vision_config", "hidden_act", "7");
        yield return HfConfig("negative head count", "text_config", "num_attention_heads", "-2");
        yield return HfConfig("vocab_size of 1e30", "text_config", "vocab_size", "1e30");
        yield return HfConfig("vision_config an array", "vision_config", null, "[1,2]");
        yield return new(Configs, "config.json that is not JSON", dir => HuggingFaceFolder(dir, "{\"text_config\": {"), HostileReaders.Checkpoint, Mentions: "config.json");
        yield return TrainingConfig("batch_size not a number", "{\"batch_size\": \"lots\"}", "batch_size");
        yield return TrainingConfig("epochs an array", "{\"epochs\": [1]}", "epochs");
        yield return TrainingConfig("steps beyond 64 bits", "{\"steps\": 1e400}", "steps");
        yield return TrainingConfig("a misspelt field", "{\"batchsize\": 8}", "batchsize");
        yield return TrainingConfig("the whole file an array", "[1, 2, 3]", "must be one JSON object of fields");
        yield return TrainingConfig("cut-off JSON", "{\"model\": \"tiny\", ", "train.json");

        // ---- Captions: broken rows, huge lines, invalid UTF-8, missing images.
        yield return Captions("CSV with an unclosed quote", "data.csv", "image,caption\na.png,\"never closed\n", Mentions: "data.csv");
        yield return Captions("CSV without a caption column", "data.csv", "image,label\na.png,cat\n", Mentions: "caption");
        yield return Captions("CSV header only, then a short row", "data.csv", "image,caption\na.png\n", Mentions: "line 2");
        yield return Captions("CSV row naming a missing image", "data.csv", "image,caption\nmissing.png,a cat\n", Expectation.Skipped, "missing.png");
        yield return Captions("CSV with a 4 MB caption line", "data.csv", "image,caption\nimg.png," + new string('x', 4 << 20) + "\n", Expectation.Read);
        yield return Captions("JSONL line that is not JSON", "data.jsonl", "{\"image\": \"img.png\", \"caption\": \"ok\"}\n{not json\n", Mentions: "line 2");
        yield return Captions("JSONL caption as a number", "data.jsonl", "{\"image\": \"img.png\", \"caption\": 7}\n", Mentions: "caption");
        yield return Captions("JSONL line that is an array", "data.jsonl", "[1, 2]\n", Mentions: "line 1");
        yield return new(HostileCategory.Captions, "JSONL with invalid UTF-8", dir => CaptionFile(dir, "data.jsonl",
            [.. "{\"image\": \"img.png\", \"caption\": \"caf"u8, 0xC3, 0x28, .. "\"}\n{\"image\": \"img.png\", \"caption\": "u8, 0xFF, .. "}\n"u8]),
            HostileReaders.Captions, Mentions: "line 2");
        yield return new(HostileCategory.Captions, "CSV with invalid UTF-8 in the header", dir => CaptionFile(dir, "data.csv", [0xFF, 0xFE, 0xFD, .. "\nimg.png,a cat\n"u8]),
            HostileReaders.Captions, Mentions: "data.csv");
        yield return Captions("empty CSV", "data.csv", "", Mentions: "data.csv");

        // ---- Folders: real file-system objects that hang or loop a naive walk.
        yield return Folder("link loop (ln -s . loop)", "loop", dir => Directory.CreateSymbolicLink(Path.Combine(dir, "loop"), "."));
        yield return Folder("link to the parent folder", "up", dir => Directory.CreateSymbolicLink(Path.Combine(Directory.CreateDirectory(Path.Combine(dir, "sub")).FullName, "up"), ".."));
        yield return Folder("FIFO named like an image", "x.png", dir => HostileReaders.MakeFifo(Path.Combine(dir, "x.png")));
        yield return Folder("dangling link", "gone.png", dir => File.CreateSymbolicLink(Path.Combine(dir, "gone.png"), "/nonexistent/gone.png"));
        yield return Folder("link to a character device", "zero.png", dir => File.CreateSymbolicLink(Path.Combine(dir, "zero.png"), "/dev/zero"));
        if (HostileReaders.CanMakeUnreadableFiles)
            yield return Folder("unreadable sub-folder", "locked", dir => Unreadable(Directory.CreateDirectory(Path.Combine(dir, "locked")).FullName));
        yield return new(Images, "FIFO named like an image, decoded directly", dir => { var p = Path.Combine(dir, "pipe.png"); HostileReaders.MakeFifo(p); return p; },
            HostileReaders.Image, Mentions: "FIFO");
        yield return new(HostileCategory.Checkpoints, "FIFO given as weights", dir => { var p = Path.Combine(dir, "w.safetensors"); HostileReaders.MakeFifo(p); return p; },
            HostileReaders.Checkpoint, Mentions: "FIFO");
    }

    // ---- One-line case makers.

    static HostileInput Image(string name, string file, Func<byte[]> bytes, Expectation expect = Expectation.Error) =>
        new(Images, name, dir => Write(dir, file, bytes()), HostileReaders.Image, expect);

    static HostileInput Checkpoint(string name, string file, Func<string, byte[]> bytes, string? Mentions = null) =>
        new(HostileCategory.Checkpoints, name, dir => Write(dir, file, bytes(dir)), HostileReaders.Checkpoint, Expectation.Error, Mentions);

    static HostileInput HfConfig(string name, string section, string? field, string json, string? mentions = null) =>
        new(Configs, $"config.json: {name}", dir => HuggingFaceFolder(dir, edit: c =>
        {
            if (field is null) c[section] = JsonNode.Parse(json);
            else c[section]![field] = JsonNode.Parse(json);
        }), HostileReaders.Checkpoint, Mentions: mentions ?? (field is null ? $"'{section}'" : $"'{section}.{field}'"));

    static HostileInput TrainingConfig(string name, string json, string mentions) =>
        new(Configs, $"train.json: {name}", dir => Write(dir, "train.json", Encoding.UTF8.GetBytes(json)), HostileReaders.TrainingConfigFile, Mentions: mentions);

    static HostileInput Captions(string name, string file, string text, Expectation expect = Expectation.Error, string? Mentions = null) =>
        new(HostileCategory.Captions, name, dir => CaptionFile(dir, file, Encoding.UTF8.GetBytes(text)), HostileReaders.Captions, expect, Mentions);

    static HostileInput Folder(string name, string entry, Action<string> make) =>
        new(Folders, name, dir =>
        {
            var root = Directory.CreateDirectory(Path.Combine(dir, "photos")).FullName;
            File.WriteAllBytes(Path.Combine(root, "ok.png"), Valid["PNG"]());
            make(root);
            return root;
        }, HostileReaders.Folder, Expectation.Skipped, entry);

    // ---- Building blocks.

    static void Unreadable(string path)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.None);
    }

    static string Write(string dir, string file, byte[] bytes)
    {
        var path = Path.Combine(dir, file);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A caption file beside one real image, img.png, so only the file's own defect can go wrong.</summary>
    static string CaptionFile(string dir, string file, byte[] bytes)
    {
        File.WriteAllBytes(Path.Combine(dir, "img.png"), Valid["PNG"]());
        return Write(dir, file, bytes);
    }

    static byte[] SafeTensors(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        return [.. BitConverter.GetBytes((long)json.Length), .. json, .. new byte[dataBytes]];
    }

    static string ModelWeights => Fixtures.PathOf(Fixtures.Array("models").First().GetProperty("weights").GetString()!);

    /// <summary>The first fixture model's weights with one NaN in ln_final.weight.</summary>
    static byte[] WithNaN()
    {
        var bytes = File.ReadAllBytes(ModelWeights);
        var entry = CheckpointTestData.Header(ModelWeights)["ln_final.weight"]!;
        long at = 8 + BitConverter.ToInt64(bytes, 0) + entry["data_offsets"]![0]!.GetValue<long>();
        byte[] nan = entry["dtype"]!.GetValue<string>() == "F16" ? BitConverter.GetBytes((Half)float.NaN) : BitConverter.GetBytes(float.NaN);
        nan.CopyTo(bytes, at);
        return bytes;
    }

    static readonly Lazy<string> _hfTemplate = new(() =>
    {
        var vit = Fixtures.Array("models").First(m => m.GetProperty("architecture").GetString() == "vit");
        using var source = CheckpointLoader.Read(Fixtures.PathOf(vit.GetProperty("weights").GetString()!));
        var dir = Path.Combine(Path.GetTempPath(), "sharpclip-hostile-hf-" + Environment.ProcessId);
        HuggingFaceClipFolder.Write(dir, source.ResolvedConfig, source.StateDict, PreprocessingInfo.ForResolution(source.ResolvedConfig.ImageResolution));
        return dir;
    });

    /// <summary>A copy of a Hugging Face folder (from the first ViT fixture) with its config.json edited or replaced.</summary>
    static string HuggingFaceFolder(string dir, string? config = null, Action<JsonObject>? edit = null)
    {
        var hf = Directory.CreateDirectory(Path.Combine(dir, "hf")).FullName;
        foreach (var f in Directory.GetFiles(_hfTemplate.Value)) File.Copy(f, Path.Combine(hf, Path.GetFileName(f)));
        var configPath = Path.Combine(hf, "config.json");
        if (edit is not null)
        {
            var json = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
            edit(json);
            config = json.ToJsonString();
        }
        File.WriteAllText(configPath, config);
        return hf;
    }
}
