using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace SharpClip.Search;

/// <summary>
/// The image index: one SQLite file in WAL mode, so readers (search, the web app) never block the indexer and a
/// killed writer leaves the last committed batch intact. Tables: <c>meta</c> (model fingerprint, dimension,
/// precision), <c>images</c> (path, size, mtime, SHA-256, pixel size, caption, embedding BLOB, change sequence) and
/// <c>failures</c> (files that could not be read, with the reason) and <c>warnings</c> (indexed images that will not
/// search as expected, with the reason; added after schema 1 shipped, so <see cref="Open"/> adds it to older files).
/// Every public member is thread-safe.
/// </summary>
public sealed class ImageIndex : IDisposable
{
    public const int SchemaVersion = 1;
    readonly SqliteConnection db;
    readonly object gate = new();

    /// <summary>Absolute path of the index file.</summary>
    public string Path { get; }

    /// <summary>Null until the first indexing run records which model made the embeddings.</summary>
    public IndexMetadata? Metadata { get; private set; }

    ImageIndex(string path, SqliteConnection db) { Path = path; this.db = db; }

    /// <summary>Opens an index; with <paramref name="create"/> a missing file becomes an empty index. A file that is not a SharpClip index is refused with its name.</summary>
    public static ImageIndex Open(string path, bool create = false)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!create && !File.Exists(full)) throw new FileNotFoundException($"index '{full}' does not exist (create it with the index command)", full);
        if (create && System.IO.Path.GetDirectoryName(full) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
        var cs = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = create ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString();
        var db = new SqliteConnection(cs);
        try
        {
            db.Open();
            // 32 KiB pages hold ~15 float32 512-d rows each; at the 4 KiB default a 2 KiB row fills a page alone (half wasted,
            // twice the reading). Only takes effect for a new file.
            if (create) Exec(db, "PRAGMA page_size=32768;");
            Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
            if (create) Exec(db, Schema);
            else if (Scalar(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ('meta','images','failures')") is not 3L)
                throw new InvalidDataException($"'{full}' is not a SharpClip index (tables meta/images/failures missing)");
            if (Scalar(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='warnings'") is not 1L) Exec(db, WarningsSchema);
            var index = new ImageIndex(full, db);
            index.Metadata = index.ReadMetadata();
            return index;
        }
        catch (SqliteException e)
        {
            db.Dispose();
            throw new InvalidDataException($"'{full}' is not a readable SharpClip index: {e.Message}", e);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    const string Schema = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS images(
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime INTEGER NOT NULL,          -- last-write time, UTC ticks
            hash BLOB NOT NULL,              -- SHA-256 of the file
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            caption TEXT,
            caption_mtime INTEGER NOT NULL,  -- sidecar .txt last-write ticks, 0 = none
            embedding BLOB NOT NULL,         -- L2-normalised, float32 or float16 (meta.precision)
            seq INTEGER NOT NULL,            -- grows on every insert/update: readers pick up rows with seq > last seen
            added_utc TEXT NOT NULL,
            updated_utc TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS images_seq ON images(seq);
        CREATE INDEX IF NOT EXISTS images_hash ON images(hash);
        CREATE TABLE IF NOT EXISTS failures(
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime INTEGER NOT NULL,
            reason TEXT NOT NULL,
            at_utc TEXT NOT NULL);
        """ + WarningsSchema;

    const string WarningsSchema = """
        CREATE TABLE IF NOT EXISTS warnings(
            path TEXT PRIMARY KEY,           -- an image in images; the row goes when the image is re-indexed or removed
            reason TEXT NOT NULL,
            at_utc TEXT NOT NULL);
        """;

    // ---------------------------------------------------------------- reading

    /// <summary>SQLite's <c>data_version</c>: changes when another connection commits, so a reader can skip refreshes cheaply.</summary>
    public long DataVersion()
    {
        lock (gate) return (long)Scalar(db, "PRAGMA data_version")!;
    }

    public long Count()
    {
        lock (gate) return (long)Scalar(db, "SELECT count(*) FROM images")!;
    }

    public IndexStats Stats()
    {
        lock (gate)
        {
            Metadata ??= ReadMetadata();
            var m = Metadata;
            long images = (long)Scalar(db, "SELECT count(*) FROM images")!;
            long failures = (long)Scalar(db, "SELECT count(*) FROM failures")!;
            long warnings = (long)Scalar(db, "SELECT count(*) FROM warnings")!;
            var last = Scalar(db, "SELECT max(updated_utc) FROM images") as string;
            return new IndexStats(images, failures, m?.Model ?? "", m?.Fingerprint ?? "", m?.Dimension ?? 0,
                m?.Precision ?? EmbeddingPrecision.Float32, last is null ? null : ParseTime(last)) { Warnings = warnings };
        }
    }

    public ImageRecord? Get(long id)
    {
        lock (gate)
        {
            using var cmd = Command("SELECT id,path,size,mtime,hash,width,height,caption,added_utc,updated_utc FROM images WHERE id=$id", ("$id", id));
            using var r = cmd.ExecuteReader();
            if (!r.Read()) return null;
            return new ImageRecord(r.GetInt64(0), r.GetString(1), r.GetInt64(2), new DateTime(r.GetInt64(3), DateTimeKind.Utc),
                Convert.ToHexStringLower((byte[])r[4]), r.GetInt32(5), r.GetInt32(6), r.IsDBNull(7) ? null : r.GetString(7),
                ParseTime(r.GetString(8)), ParseTime(r.GetString(9)));
        }
    }

    /// <summary>One image by its path (the key the vector-store collection uses), with its embedding when asked.</summary>
    internal (ImageRecord Record, float[]? Embedding)? FindByPath(string path, bool withEmbedding)
    {
        lock (gate)
        {
            using var cmd = Command("SELECT id,path,size,mtime,hash,width,height,caption,added_utc,updated_utc,embedding FROM images WHERE path=$p", ("$p", path));
            using var r = cmd.ExecuteReader();
            if (!r.Read()) return null;
            var record = ReadRecord(r);
            float[]? embedding = null;
            if (withEmbedding)
            {
                var m = RequireMetadata();
                embedding = EmbeddingCodec.Decode((byte[])r[10], m.Precision, m.Dimension);
            }
            return (record, embedding);
        }
    }

    /// <summary>Every image's record (no embeddings), for filters evaluated outside SQL.</summary>
    internal List<ImageRecord> ReadRecords()
    {
        lock (gate)
        {
            using var cmd = Command("SELECT id,path,size,mtime,hash,width,height,caption,added_utc,updated_utc FROM images ORDER BY id");
            using var r = cmd.ExecuteReader();
            var list = new List<ImageRecord>();
            while (r.Read()) list.Add(ReadRecord(r));
            return list;
        }
    }

    static ImageRecord ReadRecord(SqliteDataReader r) =>
        new(r.GetInt64(0), r.GetString(1), r.GetInt64(2), new DateTime(r.GetInt64(3), DateTimeKind.Utc),
            Convert.ToHexStringLower((byte[])r[4]), r.GetInt32(5), r.GetInt32(6), r.IsDBNull(7) ? null : r.GetString(7),
            ParseTime(r.GetString(8)), ParseTime(r.GetString(9)));

    /// <summary>The stored embedding of one image as float32, or null if the id is unknown (used to search "more like this").</summary>
    public float[]? GetEmbedding(long id)
    {
        lock (gate)
        {
            var m = RequireMetadata();
            using var cmd = Command("SELECT embedding FROM images WHERE id=$id", ("$id", id));
            return cmd.ExecuteScalar() is byte[] blob ? EmbeddingCodec.Decode(blob, m.Precision, m.Dimension) : null;
        }
    }

    public IReadOnlyList<FailureRecord> Failures(int limit = 1000)
    {
        lock (gate)
        {
            using var cmd = Command("SELECT path,size,mtime,reason,at_utc FROM failures ORDER BY path LIMIT $n", ("$n", limit));
            using var r = cmd.ExecuteReader();
            var list = new List<FailureRecord>();
            while (r.Read())
                list.Add(new FailureRecord(r.GetString(0), r.GetInt64(1), new DateTime(r.GetInt64(2), DateTimeKind.Utc), r.GetString(3), ParseTime(r.GetString(4))));
            return list;
        }
    }

    public IReadOnlyList<WarningRecord> Warnings(int limit = 1000)
    {
        lock (gate)
        {
            using var cmd = Command("""
                SELECT w.path, w.reason, w.at_utc, i.id FROM warnings w LEFT JOIN images i ON i.path = w.path ORDER BY w.path LIMIT $n
                """, ("$n", limit));
            using var r = cmd.ExecuteReader();
            var list = new List<WarningRecord>();
            while (r.Read())
                list.Add(new WarningRecord(r.IsDBNull(3) ? null : r.GetInt64(3), r.GetString(0), r.GetString(1), ParseTime(r.GetString(2))));
            return list;
        }
    }

    /// <summary>
    /// Streams every embedding changed after sequence number <paramref name="afterSeq"/> (0 = all), in one read
    /// snapshot, and returns the snapshot's row count and highest sequence. The span passed to
    /// <paramref name="row"/> is reused: copy it if you keep it.
    /// </summary>
    public (long Count, long MaxSeq) ReadEmbeddings(long afterSeq, RowAction row)
    {
        lock (gate)
        {
            var m = RequireMetadata();
            using var tx = db.BeginTransaction(deferred: true);
            var buffer = new float[m.Dimension];
            int blobBytes = m.Dimension * EmbeddingCodec.BytesPerValue(m.Precision);
            long maxSeq = afterSeq;
            // Raw SQLite statement: loading a million rows through the ADO.NET reader costs several µs per row more.
            // A full load scans the table in storage order; an update uses the seq index to touch only new rows.
            string sql = afterSeq <= 0 ? "SELECT id, seq, embedding FROM images" : "SELECT id, seq, embedding FROM images WHERE seq > ?1";
            Check(raw.sqlite3_prepare_v2(db.Handle, sql, out sqlite3_stmt stmt), "prepare");
            using (stmt)
            {
                if (afterSeq > 0) Check(raw.sqlite3_bind_int64(stmt, 1, afterSeq), "bind");
                int rc;
                while ((rc = raw.sqlite3_step(stmt)) == raw.SQLITE_ROW)
                {
                    long id = raw.sqlite3_column_int64(stmt, 0);
                    long seq = raw.sqlite3_column_int64(stmt, 1);
                    var blob = raw.sqlite3_column_blob(stmt, 2);
                    if (blob.Length != blobBytes) throw new InvalidDataException($"index '{Path}': embedding of image {id} has {blob.Length} bytes, expected {blobBytes}");
                    EmbeddingCodec.Decode(blob, m.Precision, buffer);
                    maxSeq = Math.Max(maxSeq, seq);
                    row(id, buffer);
                }
                if (rc != raw.SQLITE_DONE) Check(rc, "step");
            }
            using var countCmd = Command("SELECT count(*) FROM images");
            countCmd.Transaction = tx;
            long count = (long)countCmd.ExecuteScalar()!;
            tx.Commit();
            return (count, maxSeq);
        }
    }

    void Check(int rc, string what)
    {
        if (rc != raw.SQLITE_OK) throw new InvalidDataException($"index '{Path}': SQLite {what} failed: {raw.sqlite3_errmsg(db.Handle).utf8_to_string()}");
    }

    /// <summary>Receives one row of <see cref="ReadEmbeddings"/>.</summary>
    public delegate void RowAction(long id, ReadOnlySpan<float> embedding);

    /// <summary>Runs SQLite's own consistency check; "ok" when the file is intact.</summary>
    public string IntegrityCheck()
    {
        lock (gate) return (string)Scalar(db, "PRAGMA integrity_check")!;
    }

    // ---------------------------------------------------------------- writing (the indexer)

    internal sealed record FileState(long Id, long Size, long Mtime, byte[] Hash, long CaptionMtime);

    internal SqliteTransaction BeginWrite()
    {
        Monitor.Enter(gate);
        try { return db.BeginTransaction(); } // BEGIN IMMEDIATE: one writer, no upgrade deadlocks
        catch { Monitor.Exit(gate); throw; }
    }

    internal void EndWrite(SqliteTransaction tx, bool commit)
    {
        try
        {
            if (commit) tx.Commit(); else tx.Rollback();
        }
        finally
        {
            tx.Dispose();
            Monitor.Exit(gate);
        }
    }

    internal IndexMetadata? ReadMetadata()
    {
        var meta = new Dictionary<string, string>();
        using (var cmd = Command("SELECT key, value FROM meta"))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) meta[r.GetString(0)] = r.GetString(1);
        if (meta.Count == 0) return null;
        string Need(string key) => meta.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"index '{Path}': meta.{key} is missing");
        if (Need("schema") != SchemaVersion.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"index '{Path}': schema version {meta["schema"]} is not supported (this SharpClip reads {SchemaVersion})");
        return new IndexMetadata(Need("model"), Need("fingerprint"), int.Parse(Need("dimension"), CultureInfo.InvariantCulture),
            Enum.Parse<EmbeddingPrecision>(Need("precision")), ParseTime(Need("created_utc")));
    }

    internal void WriteMetadata(SqliteTransaction tx, IndexMetadata m)
    {
        foreach (var (k, v) in new[]
        {
            ("schema", SchemaVersion.ToString(CultureInfo.InvariantCulture)), ("model", m.Model), ("fingerprint", m.Fingerprint),
            ("dimension", m.Dimension.ToString(CultureInfo.InvariantCulture)), ("precision", m.Precision.ToString()), ("created_utc", FormatTime(m.CreatedUtc)),
        })
        {
            using var cmd = Command("INSERT INTO meta(key,value) VALUES($k,$v) ON CONFLICT(key) DO UPDATE SET value=excluded.value", ("$k", k), ("$v", v));
            cmd.Transaction = tx;
            cmd.ExecuteNonQuery();
        }
        Metadata = m;
    }

    internal void ClearAll(SqliteTransaction tx)
    {
        using var cmd = Command("DELETE FROM images; DELETE FROM failures; DELETE FROM warnings; DELETE FROM meta;");
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
        Metadata = null;
    }

    internal Dictionary<string, FileState> ReadFileStates()
    {
        lock (gate)
        {
            var d = new Dictionary<string, FileState>(StringComparer.Ordinal);
            using var cmd = Command("SELECT path,id,size,mtime,hash,caption_mtime FROM images");
            using var r = cmd.ExecuteReader();
            while (r.Read()) d[r.GetString(0)] = new FileState(r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), (byte[])r[4], r.GetInt64(5));
            return d;
        }
    }

    internal Dictionary<string, (long Size, long Mtime)> ReadFailureStates()
    {
        lock (gate)
        {
            var d = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
            using var cmd = Command("SELECT path,size,mtime FROM failures");
            using var r = cmd.ExecuteReader();
            while (r.Read()) d[r.GetString(0)] = (r.GetInt64(1), r.GetInt64(2));
            return d;
        }
    }

    /// <summary>An already-stored embedding for identical bytes (a copy or a moved file), so it need not be computed again.</summary>
    internal (byte[] Embedding, int Width, int Height)? FindByHash(byte[] hash)
    {
        lock (gate)
        {
            using var cmd = Command("SELECT embedding,width,height FROM images WHERE hash=$h LIMIT 1", ("$h", hash));
            using var r = cmd.ExecuteReader();
            return r.Read() ? ((byte[])r[0], r.GetInt32(1), r.GetInt32(2)) : null;
        }
    }

    /// <summary>Re-reads the metadata (another process may have rebuilt the index with another model).</summary>
    public IndexMetadata? ReloadMetadata()
    {
        lock (gate) return Metadata = ReadMetadata();
    }

    internal long NextSeq(SqliteTransaction tx)
    {
        using var cmd = Command("SELECT coalesce(max(seq),0)+1 FROM images");
        cmd.Transaction = tx;
        return (long)cmd.ExecuteScalar()!;
    }

    internal void UpsertImage(SqliteTransaction tx, long seq, string path, long size, long mtime, byte[] hash, int width, int height,
        string? caption, long captionMtime, byte[] embedding, DateTime now)
    {
        using var cmd = Command("""
            INSERT INTO images(path,size,mtime,hash,width,height,caption,caption_mtime,embedding,seq,added_utc,updated_utc)
            VALUES($p,$s,$m,$h,$w,$hh,$c,$cm,$e,$q,$t,$t)
            ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime=excluded.mtime, hash=excluded.hash, width=excluded.width,
              height=excluded.height, caption=excluded.caption, caption_mtime=excluded.caption_mtime, embedding=excluded.embedding,
              seq=excluded.seq, updated_utc=excluded.updated_utc
            """,
            ("$p", path), ("$s", size), ("$m", mtime), ("$h", hash), ("$w", width), ("$hh", height), ("$c", (object?)caption ?? DBNull.Value),
            ("$cm", captionMtime), ("$e", embedding), ("$q", seq), ("$t", FormatTime(now)));
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
        Delete(tx, "DELETE FROM failures WHERE path=$p", path);
        Delete(tx, "DELETE FROM warnings WHERE path=$p", path); // new bytes: the indexer records a warning again if it still applies
    }

    /// <summary>Notes a warning for an image just upserted (call after <see cref="UpsertImage"/>, which clears the old one).</summary>
    internal void RecordWarning(SqliteTransaction tx, string path, string reason, DateTime now)
    {
        using var cmd = Command("""
            INSERT INTO warnings(path,reason,at_utc) VALUES($p,$r,$t)
            ON CONFLICT(path) DO UPDATE SET reason=excluded.reason, at_utc=excluded.at_utc
            """, ("$p", path), ("$r", reason), ("$t", FormatTime(now)));
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Same bytes, new size/mtime stamp (e.g. a touched file): no new embedding, so no seq bump.</summary>
    internal void UpdateStat(SqliteTransaction tx, long id, long size, long mtime)
    {
        using var cmd = Command("UPDATE images SET size=$s, mtime=$m WHERE id=$id", ("$s", size), ("$m", mtime), ("$id", id));
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
    }

    internal void UpdateCaption(SqliteTransaction tx, long id, string? caption, long captionMtime, DateTime now)
    {
        using var cmd = Command("UPDATE images SET caption=$c, caption_mtime=$cm, updated_utc=$t WHERE id=$id",
            ("$c", (object?)caption ?? DBNull.Value), ("$cm", captionMtime), ("$t", FormatTime(now)), ("$id", id));
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
    }

    internal void RecordFailure(SqliteTransaction tx, string path, long size, long mtime, string reason, DateTime now)
    {
        using var cmd = Command("""
            INSERT INTO failures(path,size,mtime,reason,at_utc) VALUES($p,$s,$m,$r,$t)
            ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime=excluded.mtime, reason=excluded.reason, at_utc=excluded.at_utc
            """, ("$p", path), ("$s", size), ("$m", mtime), ("$r", reason), ("$t", FormatTime(now)));
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
        Delete(tx, "DELETE FROM images WHERE path=$p", path); // a file that changed into something unreadable is no longer searchable
        Delete(tx, "DELETE FROM warnings WHERE path=$p", path);
    }

    internal void DeleteImage(SqliteTransaction tx, string path)
    {
        Delete(tx, "DELETE FROM images WHERE path=$p", path);
        Delete(tx, "DELETE FROM warnings WHERE path=$p", path);
    }
    internal void DeleteFailure(SqliteTransaction tx, string path) => Delete(tx, "DELETE FROM failures WHERE path=$p", path);

    void Delete(SqliteTransaction tx, string sql, string path)
    {
        using var cmd = Command(sql, ("$p", path));
        cmd.Transaction = tx;
        cmd.ExecuteNonQuery();
    }

    // ---------------------------------------------------------------- helpers

    IndexMetadata RequireMetadata() => Metadata ??= ReadMetadata()
        ?? throw new InvalidOperationException($"index '{Path}' is empty: no indexing run has recorded a model yet");

    SqliteCommand Command(string sql, params (string Name, object Value)[] args)
    {
        var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (n, v) in args) cmd.Parameters.AddWithValue(n, v);
        return cmd;
    }

    static void Exec(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    static object? Scalar(SqliteConnection db, string sql)
    {
        using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    internal static string FormatTime(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture);
    static DateTime ParseTime(string s) => DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    public void Dispose()
    {
        lock (gate) db.Dispose();
    }
}
