using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Vision;

/// <summary>
/// CLIP's image preprocessing, exactly as the reference (<c>clip._transform(n)</c>: torchvision 0.14 on Pillow 9.4):
/// <c>Resize(n, bicubic)</c> on the image in its opened mode, <c>CenterCrop(n)</c>, <c>convert("RGB")</c>,
/// <c>ToTensor()</c>, <c>Normalize(mean, std)</c>. For lossless inputs the 8-bit pixels equal the reference's byte for
/// byte and the tensor is <c>((v / 255f) - mean) / std</c> in float32. Thread-safe; batch methods run in parallel.
/// </summary>
public sealed class ClipImageProcessor
{
    readonly float[][] _lut; // [channel][sample value] → normalised float, computed with the reference's float32 ops

    /// <summary>A processor running <paramref name="preprocessing"/> (default: CLIP's 224 px transform). For a checkpoint's
    /// model, get it from the checkpoint (<c>LoadedCheckpoint.CreateImageProcessor</c>), which also checks the crop
    /// matches the model's input.</summary>
    /// <exception cref="InvalidDataException">numbers <see cref="PreprocessingInfo.Validate"/> refuses.</exception>
    public ClipImageProcessor(PreprocessingInfo? preprocessing = null)
    {
        Preprocessing = (preprocessing ?? new PreprocessingInfo()).Validate("image preprocessing");
        _lut = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            _lut[c] = new float[256];
            float mean = Preprocessing.Mean[c], std = Preprocessing.Std[c];
            for (int v = 0; v < 256; v++)
            {
                // ToTensor: v / 255 in float32; Normalize: (x - mean) / std in float32.
                float x = !Preprocessing.DoRescale ? v
                    : Preprocessing.RescaleFactor == 1.0 / 255.0 ? v / 255f
                    : (float)(v * Preprocessing.RescaleFactor);
                _lut[c][v] = Preprocessing.DoNormalize ? (x - mean) / std : x;
            }
        }
    }

    public PreprocessingInfo Preprocessing { get; }

    /// <summary>Output height and width when centre-cropping (the model's input size).</summary>
    public (int Width, int Height) OutputSize => (Preprocessing.CropSize, Preprocessing.CropSize);

    /// <summary>
    /// The 8-bit RGB image the model sees: resized in the image's own mode, centre-cropped (only the crop is
    /// computed), then converted to RGB. <c>[H, W, 3]</c>.
    /// </summary>
    public RgbImage ResizeAndCrop(DecodedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var p = Preprocessing;
        var (rw, rh) = p.DoResize ? TorchvisionGeometry.ResizeShorterSide(image.Width, image.Height, p.ResizeShortestEdge) : (image.Width, image.Height);
        var box = p.DoCenterCrop ? TorchvisionGeometry.CenterCropBox(rw, rh, p.CropSize, p.CropSize) : PixelRect.Full(rw, rh);
        int x0 = Math.Max(0, box.X), y0 = Math.Max(0, box.Y);
        var inside = new PixelRect(x0, y0, Math.Min(rw, box.Right) - x0, Math.Min(rh, box.Bottom) - y0);
        var rgb = image.ResizeRegion(rw, rh, p.Resample, inside).ToRgbTakingPixels(); // the resized image is ours alone
        // Padding (crop larger than the resized image) only happens with unusual configs; torchvision pads with zeros.
        return inside == box ? rgb : rgb.Crop(new PixelRect(box.X - x0, box.Y - y0, box.Width, box.Height));
    }

    /// <summary>Decodes <paramref name="path"/> and returns the 8-bit RGB image the model sees.</summary>
    public RgbImage ResizeAndCrop(string path) => ResizeAndCrop(ImageDecoder.Decode(path));

    /// <summary>ToTensor + Normalize: <c>float32 [3, H, W]</c> (CHW).</summary>
    public float[] Normalize(RgbImage image)
    {
        var result = new float[3 * image.Width * image.Height];
        Normalize(image, result);
        return result;
    }

    /// <summary>ToTensor + Normalize into <paramref name="destination"/> (<c>[3, H, W]</c>, e.g. one slot of a batch buffer).</summary>
    public void Normalize(RgbImage image, Span<float> destination)
    {
        int plane = image.Width * image.Height;
        if (destination.Length != 3 * plane)
            throw new ArgumentException($"destination holds {destination.Length} floats; [3, {image.Height}, {image.Width}] needs {3 * plane}", nameof(destination));
        unsafe
        {
            fixed (byte* px = image.Pixels)
            fixed (float* planes = destination, lr = _lut[0], lg = _lut[1], lb = _lut[2])
                PlanarLookup.Split(px, plane, planes, planes + plane, planes + 2 * plane, lr, lg, lb);
        }
    }

    /// <summary>The model input for one decoded image: <c>float32 [3, H, W]</c>.</summary>
    public float[] Process(DecodedImage image) => Normalize(ResizeAndCrop(image));

    /// <summary>
    /// A training input: <paramref name="crop"/> (open_clip's RandomResizedCrop) instead of resize + centre crop, then
    /// <c>convert("RGB")</c> and this processor's normalisation. <c>float32 [3, crop.Size, crop.Size]</c>.
    /// </summary>
    public float[] ProcessAugmented(DecodedImage image, RandomResizedCrop crop, Random random, RandomGrayscale? grayscale = null)
    {
        ArgumentNullException.ThrowIfNull(crop);
        var rgb = crop.Apply(image, random).ToRgb();
        return Normalize(grayscale is null ? rgb : grayscale.Apply(rgb, random));
    }

    /// <summary>The model input for one file: <c>float32 [3, H, W]</c>. Throws <see cref="ImageDecodeException"/> for bad files.</summary>
    /// <remarks>The file is read and decoded into buffers that the next file reuses (the decoded image is resized at
    /// once and never handed out), which saved a quarter to a third of the time per photo.</remarks>
    public float[] Process(string path)
    {
        using var scratch = new DecodeScratch();
        return Process(ImageDecoder.DecodeTransient(path, scratch));
    }

    /// <summary>The model input for an in-memory file (e.g. a tar-shard member); <paramref name="name"/> names it in errors.</summary>
    public float[] Process(byte[] data, string name)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var scratch = new DecodeScratch();
        return Process(ImageDecoder.DecodeTransient(data, name, scratch));
    }

    /// <summary>Preprocesses many files in parallel, as <see cref="ProcessBatch(IReadOnlyList{string}, int?, IProgress{int}?, CancellationToken)"/>,
    /// straight into one batch tensor (this processor's crop size), taken from <paramref name="recycler"/> when given.</summary>
    internal PreprocessedBatch ProcessBatchInto(IReadOnlyList<string> paths, int? maxDegreeOfParallelism, CancellationToken cancellationToken,
        BatchTensorRecycler? recycler = null) =>
        FillBatch(paths, paths, maxDegreeOfParallelism, cancellationToken, recycler, (path, slot) =>
        {
            using var scratch = new DecodeScratch();
            Normalize(ResizeAndCrop(ImageDecoder.DecodeTransient(path, scratch)), slot);
        });

    /// <summary>In-memory encoded images into one batch tensor, as <see cref="ProcessBatchInto(IReadOnlyList{string}, int?, CancellationToken, BatchTensorRecycler?)"/>.</summary>
    internal PreprocessedBatch ProcessBatchInto(IReadOnlyList<(byte[] Data, string Name)> images, int? maxDegreeOfParallelism, CancellationToken cancellationToken,
        BatchTensorRecycler? recycler = null) =>
        FillBatch(images, images.Select(i => i.Name).ToList(), maxDegreeOfParallelism, cancellationToken, recycler, (image, slot) =>
        {
            using var scratch = new DecodeScratch();
            Normalize(ResizeAndCrop(ImageDecoder.DecodeTransient(image.Data, image.Name, scratch)), slot);
        });

    delegate void FillSlot<T>(T item, Span<float> slot);

    PreprocessedBatch FillBatch<T>(IReadOnlyList<T> items, IReadOnlyList<string> sources, int? maxDegreeOfParallelism,
        CancellationToken cancellationToken, BatchTensorRecycler? recycler, FillSlot<T> fill)
    {
        var (w, h) = OutputSize;
        var batch = new PreprocessedBatch(sources, h, w, recycler);
        try
        {
            Parallel.For(0, items.Count, Parallelism(maxDegreeOfParallelism, cancellationToken), i =>
            {
                try { fill(items[i], batch.Slot(i)); }
                catch (Exception e) when (IsInputError(e)) { batch.Fail(i, e); }
            });
            return batch;
        }
        catch (AggregateException e)
        {
            // Not an input's fault (an image of another size than the batch's, with no centre crop): the first reason,
            // as the caller would have met it without the parallel loop.
            batch.Dispose();
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        catch
        {
            batch.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Preprocesses many files in parallel (at most <paramref name="maxDegreeOfParallelism"/> at once, default: all
    /// cores). A file that cannot be read or decoded gives a failed <see cref="PreprocessResult"/> and the rest go on.
    /// Results are in input order. <paramref name="progress"/> receives the number of items finished so far.
    /// </summary>
    public IReadOnlyList<PreprocessResult> ProcessBatch(IReadOnlyList<string> paths, int? maxDegreeOfParallelism = null,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var results = new PreprocessResult[paths.Count];
        int done = 0;
        var options = Parallelism(maxDegreeOfParallelism, cancellationToken);
        Parallel.For(0, paths.Count, options, i =>
        {
            string path = paths[i];
            try { results[i] = new PreprocessResult(i, path, Process(path), null); }
            catch (Exception e) when (IsInputError(e)) { results[i] = new PreprocessResult(i, path, null, e); }
            progress?.Report(Interlocked.Increment(ref done));
        });
        return results;
    }

    /// <summary>
    /// Preprocesses in-memory encoded images (uploads, <c>DataContent</c>) in parallel, as <see cref="ProcessBatch(IReadOnlyList{string}, int?, IProgress{int}?, CancellationToken)"/>
    /// does files: one that cannot be decoded gives a failed result named by its <c>Name</c>, the rest go on.
    /// </summary>
    public IReadOnlyList<PreprocessResult> ProcessBatch(IReadOnlyList<(byte[] Data, string Name)> images, int? maxDegreeOfParallelism = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        var results = new PreprocessResult[images.Count];
        var options = Parallelism(maxDegreeOfParallelism, cancellationToken);
        Parallel.For(0, images.Count, options, i =>
        {
            var (data, name) = images[i];
            try { results[i] = new PreprocessResult(i, name, Process(data, name), null); }
            catch (Exception e) when (IsInputError(e)) { results[i] = new PreprocessResult(i, name, null, e); }
        });
        return results;
    }

    /// <summary>
    /// Preprocesses files in parallel into one <c>float32 [B, 3, H, W]</c> tensor. Any failure throws (the first failed
    /// file's exception, rethrown when it is the only one); use <see cref="ProcessBatch(IReadOnlyList{string}, int?, IProgress{int}?, CancellationToken)"/> to skip bad files instead.
    /// </summary>
    public Tensor ProcessBatchToTensor(IReadOnlyList<string> paths, int? maxDegreeOfParallelism = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        using var batch = ProcessBatchInto(paths, maxDegreeOfParallelism, cancellationToken); // each image written once, into the batch
        var failed = Enumerable.Range(0, batch.Count).Select(batch.Error).OfType<Exception>().ToList();
        if (failed.Count == 1) ExceptionDispatchInfo.Capture(failed[0]).Throw();
        if (failed.Count > 1)
            throw new IOException($"{failed.Count} of {batch.Count} images failed; first: {failed[0].Message}", failed[0]);
        return batch.Pixels();
    }

    /// <summary>Stacks <c>[3, H, W]</c> arrays (this processor's crop size) into a <c>float32 [B, 3, H, W]</c> CPU tensor.</summary>
    public Tensor ToBatchTensor(IReadOnlyList<float[]> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var (w, h) = OutputSize;
        int each = 3 * w * h;
        for (int i = 0; i < items.Count; i++)
            if (items[i].Length != each)
                throw new ArgumentException($"item {i} holds {items[i].Length} floats; [3, {h}, {w}] needs {each}", nameof(items));
        // Each item copied once, straight into the tensor's memory (a batch of 32 is 19 MB: through a managed array
        // first, that was a second copy and 19 MB of fresh pages per batch).
        var batch = torch.empty([items.Count, 3, h, w], ScalarType.Float32);
        var memory = MemoryMarshal.Cast<byte, float>(batch.bytes);
        for (int i = 0; i < items.Count; i++) items[i].CopyTo(memory.Slice(i * each, each));
        return batch;
    }

    /// <summary>One <c>[3, H, W]</c> array as a CPU tensor of that shape.</summary>
    public static Tensor ToTensor(float[] chw, int height, int width) => torch.tensor(chw, [3, height, width]);

    /// <summary>At most <paramref name="maxDegreeOfParallelism"/> items at once (default: every core).</summary>
    static ParallelOptions Parallelism(int? maxDegreeOfParallelism, CancellationToken cancellationToken) => new()
    {
        MaxDegreeOfParallelism = Math.Max(1, maxDegreeOfParallelism ?? Environment.ProcessorCount),
        CancellationToken = cancellationToken,
    };

    /// <summary>Failures that belong to one input (bad or missing file), as opposed to bugs, which propagate.</summary>
    static bool IsInputError(Exception e) => e is IOException or UnauthorizedAccessException or InvalidDataException;
}
