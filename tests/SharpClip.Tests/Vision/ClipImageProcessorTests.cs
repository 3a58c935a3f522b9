using SharpClip.Files;
using SharpClip.Checkpoints;
using SharpClip.Tests.Infrastructure;
using SharpClip.Vision;

namespace SharpClip.Tests.Vision;

public sealed class ClipImageProcessorTests : IDisposable
{
    readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    static IEnumerable<string> FixtureFiles() => Fixtures.Array("images").Select(e => Fixtures.PathOf(e.GetProperty("file").GetString()!));

    [Fact]
    public void BatchTensorStacksTheItemsInOrder()
    {
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(8));
        int each = 3 * 8 * 8;
        var items = Enumerable.Range(0, 3).Select(k => Enumerable.Range(0, each).Select(i => k * 1000f + i).ToArray()).ToList();
        using var batch = processor.ToBatchTensor(items);
        Assert.Equal(new long[] { 3, 3, 8, 8 }, batch.shape);
        Assert.Equal(items.SelectMany(x => x).ToArray(), batch.data<float>().ToArray());
        using var none = processor.ToBatchTensor([]);
        Assert.Equal(new long[] { 0, 3, 8, 8 }, none.shape);
        Assert.Throws<ArgumentException>(() => processor.ToBatchTensor([new float[each - 1]]));
    }

    [Fact]
    public void BatchCollectsFailuresAndKeepsOrder()
    {
        var good = FixtureFiles().Take(3).ToList();
        var paths = new List<string> { good[0], _dir.Write("empty.png", []), good[1], _dir.File("missing.jpg"), _dir.Write("text.gif", "GIF? no"u8.ToArray()), good[2] };
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(32));
        int reported = 0;
        var results = processor.ProcessBatch(paths, maxDegreeOfParallelism: 2, progress: new SyncProgress(n => Interlocked.Increment(ref reported)));

        Assert.Equal(paths.Count, results.Count);
        Assert.Equal(paths.Count, reported);
        for (int i = 0; i < paths.Count; i++)
        {
            Assert.Equal(i, results[i].Index);
            Assert.Equal(paths[i], results[i].Source);
        }
        Assert.Equal(new[] { true, false, true, false, false, true }, results.Select(r => r.Succeeded));
        Assert.IsType<ImageDecodeException>(results[1].Error);
        Assert.IsType<FileNotFoundException>(results[3].Error);
        Assert.Equal(ImageDecodeError.UnsupportedFormat, Assert.IsType<ImageDecodeException>(results[4].Error).Error);
        Assert.Equal(processor.Process(good[1]), results[2].PixelValues);

        var e = Assert.ThrowsAny<IOException>(() => processor.ProcessBatchToTensor(paths));
        Assert.Contains("3 of 6 images failed", e.Message);
    }

    [Fact]
    public void BatchIntoOneTensorEqualsOneByOneAndSkipsTheFailures()
    {
        var good = FixtureFiles().ToList();
        var paths = new List<string> { good[0], _dir.Write("empty.png", []), good[1], _dir.File("missing.jpg") };
        paths.AddRange(good.Skip(2));
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(32));
        using var batch = processor.ProcessBatchInto(paths, 2, CancellationToken.None);

        Assert.Equal(paths, batch.Sources);
        Assert.IsType<ImageDecodeException>(batch.Error(1));
        Assert.IsType<FileNotFoundException>(batch.Error(3));
        var ok = Enumerable.Range(0, paths.Count).Where(i => i != 1 && i != 3).ToList();
        Assert.Equal(ok, batch.Succeeded());
        using var pixels = batch.Pixels();
        Assert.Equal(new long[] { ok.Count, 3, 32, 32 }, pixels.shape);
        var all = pixels.data<float>().ToArray();
        for (int k = 0; k < ok.Count; k++)
            Assert.Equal(processor.Process(paths[ok[k]]), all.AsSpan(k * 3 * 32 * 32, 3 * 32 * 32).ToArray());

        // The same from bytes, none failing: the batch's own tensor.
        var encoded = good.Take(3).Select(f => (File.ReadAllBytes(f), f)).ToList();
        using var fromBytes = processor.ProcessBatchInto(encoded, 1, CancellationToken.None);
        using var bytesPixels = fromBytes.Pixels();
        Assert.Equal(good.Take(3).SelectMany(processor.Process).ToArray(), bytesPixels.data<float>().ToArray());
    }

    [Fact]
    public void RecycledBatchTensorsCarryNothingOver()
    {
        var good = FixtureFiles().Take(3).ToList();
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(32));
        using var recycler = new BatchTensorRecycler();
        nint middle;
        using (var a = processor.ProcessBatchInto(good, 2, CancellationToken.None, recycler))
        using (var pixels = a.Pixels())
        {
            Assert.Equal(new long[] { 3, 3, 32, 32 }, pixels.shape); // disposed first, then the batch gives its tensor back
            middle = AddressOf(a.Slot(1));
        }
        // The same shape takes the finished batch's tensor (its middle slot still holds good[1]), the middle item now failing.
        var paths = new List<string> { good[2], _dir.File("missing.jpg"), good[0] };
        using var b = processor.ProcessBatchInto(paths, 2, CancellationToken.None, recycler);
        Assert.Equal(middle, AddressOf(b.Slot(1)));
        using var kept = b.Pixels();
        Assert.Equal(new long[] { 2, 3, 32, 32 }, kept.shape);
        Assert.Equal(processor.Process(good[2]).Concat(processor.Process(good[0])).ToArray(), kept.data<float>().ToArray());

        using var t = recycler.Take([2, 3, 8, 8]);
        Assert.Equal(new long[] { 2, 3, 8, 8 }, t.shape);
        recycler.GiveBack(t.alias());
        using var again = recycler.Take([2, 3, 8, 8]);
        again[0, 0, 0, 0] = TorchSharp.torch.tensor(42f);
        Assert.Equal(42f, t[0, 0, 0, 0].item<float>()); // the same memory came back
    }

    static unsafe nint AddressOf(Span<float> slot) =>
        (nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(slot));

    [Fact]
    public void BatchTensorOfImagesOfTheirOwnSizesFailsWithOneClearError()
    {
        // No centre crop: each image keeps its own resized size, which one batch tensor cannot hold.
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(32) with { DoCenterCrop = false });
        var files = FixtureFiles().GroupBy(f => { var h = ImageDecoder.ReadHeader(f); return (double)h.Width / h.Height; })
            .Select(g => g.First()).Take(2).ToList();
        Assert.Equal(2, files.Count);
        var e = Assert.Throws<ArgumentException>(() => processor.ProcessBatchToTensor(files));
        Assert.Contains("needs", e.Message);
    }

    [Fact]
    public void BatchTensorStacksItemsInOrder()
    {
        var files = FixtureFiles().Take(4).ToList();
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(64));
        using var batch = processor.ProcessBatchToTensor(files, maxDegreeOfParallelism: 2);
        Assert.Equal(new long[] { files.Count, 3, 64, 64 }, batch.shape);
        var all = batch.data<float>().ToArray();
        for (int i = 0; i < files.Count; i++)
            Assert.Equal(processor.Process(files[i]), all.AsSpan(i * 3 * 64 * 64, 3 * 64 * 64).ToArray());
    }

    [Fact]
    public void OneBadFileInStrictBatchRethrowsItsException()
    {
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(32));
        var bad = _dir.Write("zero.webp", []);
        var e = Assert.Throws<ImageDecodeException>(() => processor.ProcessBatchToTensor([FixtureFiles().First(), bad]));
        Assert.Equal(bad, e.File);
    }

    [Fact]
    public void ReadsHuggingFacePreprocessorConfig()
    {
        var path = _dir.Write("preprocessor_config.json", """
            {
              "crop_size": {"height": 336, "width": 336},
              "do_center_crop": true, "do_normalize": true, "do_resize": true, "do_rescale": true,
              "feature_extractor_type": "CLIPFeatureExtractor",
              "image_mean": [0.5, 0.25, 0.125], "image_std": [0.1, 0.2, 0.4],
              "resample": 2, "rescale_factor": 0.00392156862745098,
              "size": {"shortest_edge": 336}
            }
            """u8.ToArray());
        var o = PreprocessingInfo.ReadHuggingFace(path);
        Assert.Equal((336, 336), (o.ResizeShortestEdge, o.CropSize));
        Assert.Equal(ResampleFilter.Bilinear, o.Resample);
        Assert.Equal(new[] { 0.5f, 0.25f, 0.125f }, o.Mean);
        Assert.Equal(new[] { 0.1f, 0.2f, 0.4f }, o.Std);
        Assert.Equal(1.0 / 255.0, o.RescaleFactor);

        // Older configs give plain integers.
        var old = PreprocessingInfo.ReadHuggingFace(_dir.Write("old.json", """{"size": 224, "crop_size": 224}"""u8.ToArray()));
        Assert.Equal((224, 224), (old.ResizeShortestEdge, old.CropSize));

        var badPath = _dir.Write("bad.json", """{"image_mean": [1, 2]}"""u8.ToArray());
        var bad = Assert.Throws<InvalidDataException>(() => PreprocessingInfo.ReadHuggingFace(badPath));
        Assert.StartsWith(badPath + ": ", bad.Message);
        Assert.Contains("image_mean", bad.Message);
    }

    /// <summary>
    /// What <c>sharpclip preprocess --config</c> takes beyond a model's transform: no resize, no crop, another rescale,
    /// no normalisation — each honoured, and written back to the same config.
    /// </summary>
    [Fact]
    public void ReadsTheProcessorSwitchesAModelFolderNeverUses()
    {
        var path = _dir.Write("switches.json", """
            {"do_resize": false, "do_center_crop": false, "do_rescale": true, "rescale_factor": 0.5, "do_normalize": false}
            """u8.ToArray());
        var p = PreprocessingInfo.ReadHuggingFace(path);
        Assert.Equal((false, false, 0.5, false), (p.DoResize, p.DoCenterCrop, p.RescaleFactor, p.DoNormalize));
        var again = _dir.File("again.json");
        p.WriteHuggingFace(again);
        Assert.Equal(p, PreprocessingInfo.ReadHuggingFace(again));

        var processor = new ClipImageProcessor(p);
        var image = DecodedImage.FromRgb(new RgbImage(5, 3, Enumerable.Range(0, 45).Select(i => (byte)(i * 5)).ToArray()));
        var rgb = processor.ResizeAndCrop(image);
        Assert.Equal((5, 3), (rgb.Width, rgb.Height)); // neither resized nor cropped
        var values = processor.Normalize(rgb);
        Assert.Equal(rgb.Pixels[0] * 0.5f, values[0]);   // rescaled by 0.5, not normalised
        Assert.Equal(rgb.Pixels[3 * 14 + 2] * 0.5f, values[2 * 15 + 14]);
    }

    [Fact]
    public void ConfigNumbersChangeTheOutput()
    {
        var file = FixtureFiles().First();
        var baseline = new ClipImageProcessor(PreprocessingInfo.ForResolution(32));
        var other = new ClipImageProcessor(PreprocessingInfo.ForResolution(32) with { Mean = [0f, 0f, 0f], Std = [1f, 1f, 1f] });
        var rgb = baseline.ResizeAndCrop(file);
        var plain = other.Normalize(rgb);
        for (int i = 0; i < 32 * 32; i++) Assert.Equal(rgb.Pixels[3 * i + 1] / 255f, plain[32 * 32 + i]);
        Assert.NotEqual(baseline.Normalize(rgb), plain);
    }

    [Theory]
    [InlineData(333, 224, 54)] // (333 - 224) / 2 = 54.5 → 54 (half to even)
    [InlineData(347, 224, 62)] // 61.5 → 62
    [InlineData(224, 224, 0)]
    [InlineData(200, 224, -12)] // crop larger: torchvision pads (224 - 200) // 2 = 12 before
    public void CenterCropRoundsHalfToEven(int size, int crop, int expectedStart) =>
        Assert.Equal(expectedStart, TorchvisionGeometry.CenterCropBox(size, size, crop, crop).X);

    [Fact]
    public void CropLargerThanImagePadsWithBlack()
    {
        // Only without resizing can the crop be larger than the image (with it, the crop may not exceed the resize edge).
        var processor = new ClipImageProcessor(new PreprocessingInfo { DoResize = false, CropSize = 20 });
        var rgb = processor.ResizeAndCrop(DecodedImage.FromRgb(new RgbImage(16, 16, Enumerable.Repeat((byte)200, 16 * 16 * 3).ToArray())));
        Assert.Equal((20, 20), (rgb.Width, rgb.Height));
        Assert.Equal(0, rgb[5, 1].R);
        Assert.Equal((0, 0, 0), ((int)rgb[1, 5].R, (int)rgb[1, 5].G, (int)rgb[1, 5].B));
        Assert.Equal(200, rgb[2, 5].R);
        Assert.Equal(200, rgb[17, 5].R);
        Assert.Equal(0, rgb[18, 5].R);
    }

    [Fact]
    public void RegionOfResizeEqualsCropOfFullResize()
    {
        var file = FixtureFiles().First(f => ImageDecoder.ReadHeader(f).Mode == PillowMode.RGBA);
        var img = ImageDecoder.Decode(file);
        var full = img.Resize(97, 61);
        var region = new PixelRect(13, 7, 40, 50);
        Assert.Equal(full.Crop(region).Samples.ToArray(), img.ResizeRegion(97, 61, ResampleFilter.Bicubic, region).Samples.ToArray());
    }

    [Fact]
    public void SameSizeResizeIsACopy()
    {
        var rgb = new RgbImage(4, 3, TestImages.Noise(36, 1));
        Assert.Equal(rgb.Pixels, rgb.Resize(4, 3).Pixels);
    }

    [Fact]
    public void CliWritesPngAndSafetensors()
    {
        var file = FixtureFiles().First();
        var png = _dir.File("out.png");
        var st = _dir.File("out.safetensors");
        Assert.Equal(0, SharpClip.Cli.Program.Main(["preprocess", file, "--size", "32", "--output", png]));
        Assert.Equal(0, SharpClip.Cli.Program.Main(["preprocess", file, "--size", "32", "--output", st]));
        var processor = new ClipImageProcessor(PreprocessingInfo.ForResolution(32));
        var rgb = processor.ResizeAndCrop(file);
        var roundTrip = ImageDecoder.Decode(png);
        Assert.Equal(PillowMode.RGB, roundTrip.Mode);
        Assert.Equal(rgb.Pixels, roundTrip.Samples.ToArray());
        using var f = SafeTensorsFile.Open(st);
        Assert.Equal(new long[] { 3, 32, 32 }, f.Info("pixel_values").Shape);
        Assert.Equal(processor.Normalize(rgb), f.ReadFloats("pixel_values"));

        Assert.NotEqual(0, SharpClip.Cli.Program.Main(["preprocess", _dir.Write("bad.jpg", []), "--output", png]));
        Assert.NotEqual(0, SharpClip.Cli.Program.Main(["preprocess", file, "--output", _dir.File("out.jpg")]));
    }

    sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
