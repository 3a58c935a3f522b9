using System.Diagnostics;
using System.Security.Cryptography;

namespace SharpClip.Search;

/// <summary>
/// Brings an <see cref="ImageIndex"/> up to date with folders on disk: embeds new and changed images, reuses the stored
/// embedding for identical bytes (moved or copied files), drops rows whose file is gone, and records files that cannot
/// be read. A file is "unchanged" when size and mtime match; when they differ the SHA-256 decides whether the bytes
/// really changed. Work is committed one batch per transaction, so a killed run loses at most the batch in flight and
/// the next run continues from there.
/// </summary>
public static class Indexer
{
    public static IndexSummary Run(ImageIndex index, IImageTextEncoder encoder, string model, IReadOnlyList<string> folders,
        IndexerOptions? options = null, IProgress<IndexProgress>? progress = null, CancellationToken ct = default)
    {
        options ??= new IndexerOptions();
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "batch size must be at least 1");
        if (folders.Count == 0) throw new ArgumentException("no folder to index", nameof(folders));
        var clock = Stopwatch.StartNew();
        var precision = PrepareMetadata(index, encoder, model, options);

        var scan = FolderScanner.Scan(folders, options.Extensions, ct);
        var scanned = scan.Files;
        var states = index.ReadFileStates();
        var knownFailures = index.ReadFailureStates();
        var scannedPaths = new HashSet<string>(scanned.Select(f => f.Path), StringComparer.Ordinal);

        int unchanged = 0, skippedFailures = 0;
        var work = new List<(ScannedFile File, ImageIndex.FileState? Old)>();
        var captionChanges = new List<(long Id, string Path, long CaptionMtime)>();
        foreach (var f in scanned)
        {
            if (states.TryGetValue(f.Path, out var st))
            {
                if (st.Size == f.Size && st.Mtime == f.MtimeTicks)
                {
                    unchanged++;
                    long cm = CaptionStamp(f.Path);
                    if (cm != st.CaptionMtime) captionChanges.Add((st.Id, f.Path, cm));
                }
                else work.Add((f, st));
            }
            else if (!options.RetryFailures && knownFailures.TryGetValue(f.Path, out var fs) && fs == (f.Size, f.MtimeTicks)) skippedFailures++;
            else work.Add((f, null));
        }

        int embedded = 0, reused = 0, touched = 0, failed = 0, done = 0, warned = 0;
        progress?.Report(new IndexProgress(0, work.Count, 0, clock.Elapsed));
        for (int start = 0; start < work.Count; start += options.BatchSize)
        {
            ct.ThrowIfCancellationRequested();
            var batch = work.GetRange(start, Math.Min(options.BatchSize, work.Count - start));
            var hashes = HashAll(batch.Select(b => b.File.Path).ToList(), ct);

            // Decide outside the write transaction what each file needs, so the write lock is held only briefly.
            var toEmbed = new List<int>();
            var reuse = new Dictionary<int, (byte[] Embedding, int Width, int Height)>();
            var sameAs = new Dictionary<int, int>();                      // duplicate bytes within this batch -> first copy
            var firstWithHash = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < batch.Count; i++)
            {
                if (hashes[i].Error is not null) continue;
                if (batch[i].Old is { } old && old.Hash.AsSpan().SequenceEqual(hashes[i].Hash)) continue; // touched only
                if (index.FindByHash(hashes[i].Hash!) is { } hit) reuse[i] = hit;
                else if (firstWithHash.TryGetValue(Convert.ToHexString(hashes[i].Hash!), out int first)) sameAs[i] = first;
                else
                {
                    firstWithHash[Convert.ToHexString(hashes[i].Hash!)] = i;
                    toEmbed.Add(i);
                }
            }
            var encoded = toEmbed.Count == 0 ? [] : encoder.EmbedImages(toEmbed.Select(i => batch[i].File.Path).ToList(), ct);
            if (encoded.Count != toEmbed.Count) throw new InvalidOperationException($"encoder returned {encoded.Count} results for {toEmbed.Count} images");
            var results = new Dictionary<int, EncodeResult>();
            for (int j = 0; j < toEmbed.Count; j++) results[toEmbed[j]] = encoded[j];
            foreach (var (copy, first) in sameAs)
                if (results[first] is { Embedding: { } e } r) reuse[copy] = (EmbeddingCodec.Encode(e, precision), r.Width, r.Height);
                else results[copy] = results[first];
            var warnings = new Dictionary<int, string>();              // images that embed but not as the user expects
            foreach (int i in reuse.Keys.Concat(results.Where(r => r.Value.Ok).Select(r => r.Key)))
                if (ImageWarnings.For(batch[i].File.Path) is { } warning) { warnings[i] = warning; warned++; }

            var now = DateTime.UtcNow;
            var tx = index.BeginWrite();
            bool ok = false;
            try
            {
                long seq = index.NextSeq(tx);
                for (int i = 0; i < batch.Count; i++)
                {
                    var (file, old) = batch[i];
                    if (hashes[i].Error is { } hashError)
                    {
                        index.RecordFailure(tx, file.Path, file.Size, file.MtimeTicks, hashError, now);
                        failed++;
                    }
                    else if (reuse.TryGetValue(i, out var hit))
                    {
                        var (caption, cm) = ReadCaption(file.Path);
                        index.UpsertImage(tx, seq++, file.Path, file.Size, file.MtimeTicks, hashes[i].Hash!, hit.Width, hit.Height, caption, cm, hit.Embedding, now);
                        if (warnings.TryGetValue(i, out var warning)) index.RecordWarning(tx, file.Path, warning, now);
                        reused++;
                    }
                    else if (results.TryGetValue(i, out var r))
                    {
                        if (r.Embedding is { } e)
                        {
                            if (e.Length != encoder.Dimension) throw new InvalidOperationException($"encoder returned {e.Length} values for '{file.Path}', expected {encoder.Dimension}");
                            var (caption, cm) = ReadCaption(file.Path);
                            index.UpsertImage(tx, seq++, file.Path, file.Size, file.MtimeTicks, hashes[i].Hash!, r.Width, r.Height, caption, cm,
                                EmbeddingCodec.Encode(e, precision), now);
                            if (warnings.TryGetValue(i, out var warning)) index.RecordWarning(tx, file.Path, warning, now);
                            embedded++;
                        }
                        else
                        {
                            index.RecordFailure(tx, file.Path, file.Size, file.MtimeTicks, r.Error ?? "unknown error", now);
                            failed++;
                        }
                    }
                    else
                    {
                        index.UpdateStat(tx, old!.Id, file.Size, file.MtimeTicks);
                        long cm = CaptionStamp(file.Path);
                        if (cm != old.CaptionMtime) captionChanges.Add((old.Id, file.Path, cm));
                        touched++;
                    }
                }
                ok = true;
            }
            finally { index.EndWrite(tx, ok); }
            done += batch.Count;
            progress?.Report(new IndexProgress(done, work.Count, failed, clock.Elapsed));
        }

        // Deletions last: until here a moved file's old row could still lend its embedding.
        int removed = 0;
        {
            var tx = index.BeginWrite();
            bool ok = false;
            try
            {
                var now = DateTime.UtcNow;
                foreach (var (id, path, cm) in captionChanges)
                {
                    var (caption, _) = ReadCaption(path);
                    index.UpdateCaption(tx, id, caption, cm, now);
                }
                foreach (var path in states.Keys)
                    if (!scannedPaths.Contains(path) && !File.Exists(path)) { index.DeleteImage(tx, path); removed++; }
                foreach (var path in knownFailures.Keys)
                    if (!scannedPaths.Contains(path) && !File.Exists(path)) index.DeleteFailure(tx, path);
                ok = true;
            }
            finally { index.EndWrite(tx, ok); }
        }
        return new IndexSummary(scanned.Count, embedded, reused, touched, unchanged, captionChanges.Count, removed, failed,
            skippedFailures, clock.Elapsed.TotalSeconds) { Skipped = scan.Skipped, Warned = warned };
    }

    /// <summary>Creates or checks the index's metadata; returns the storage precision to use.</summary>
    static EmbeddingPrecision PrepareMetadata(ImageIndex index, IImageTextEncoder encoder, string model, IndexerOptions options)
    {
        var meta = index.Metadata;
        if (meta is not null && !options.Rebuild)
        {
            if (meta.Fingerprint != encoder.Fingerprint)
                throw new ModelMismatchException(index.Path, meta.Model, meta.Fingerprint, model, encoder.Fingerprint);
            if (meta.Dimension != encoder.Dimension)
                throw new InvalidDataException($"index '{index.Path}' stores {meta.Dimension}-d embeddings but the encoder makes {encoder.Dimension}-d ones");
            if (options.Precision is { } p && p != meta.Precision)
                throw new InvalidOperationException($"index '{index.Path}' stores {meta.Precision} embeddings, not {p}; rebuild the index to change precision");
            return meta.Precision;
        }
        var precision = options.Precision ?? EmbeddingPrecision.Float32;
        var tx = index.BeginWrite();
        bool ok = false;
        try
        {
            if (options.Rebuild) index.ClearAll(tx);
            index.WriteMetadata(tx, new IndexMetadata(model, encoder.Fingerprint, encoder.Dimension, precision, DateTime.UtcNow));
            ok = true;
        }
        finally { index.EndWrite(tx, ok); }
        return precision;
    }

    static (byte[]? Hash, string? Error)[] HashAll(IReadOnlyList<string> paths, CancellationToken ct)
    {
        var result = new (byte[]?, string?)[paths.Count];
        Parallel.For(0, paths.Count, new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            try
            {
                using var s = new FileStream(paths[i], FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
                result[i] = (SHA256.HashData(s), null);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                result[i] = (null, $"cannot read file: {e.Message}");
            }
        });
        return result;
    }

    static long CaptionStamp(string imagePath)
    {
        var info = new FileInfo(FolderScanner.SidecarPath(imagePath));
        return info.Exists ? info.LastWriteTimeUtc.Ticks : 0;
    }

    const int MaxCaptionChars = 10_000;

    static (string? Caption, long Stamp) ReadCaption(string imagePath)
    {
        string path = FolderScanner.SidecarPath(imagePath);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return (null, 0);
            string text = File.ReadAllText(path).Trim();
            if (text.Length > MaxCaptionChars) text = text[..MaxCaptionChars];
            return (text.Length == 0 ? null : text, info.LastWriteTimeUtc.Ticks);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, 0);
        }
    }
}
