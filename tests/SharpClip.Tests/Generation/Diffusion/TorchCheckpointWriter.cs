using System.IO.Compression;
using System.Text;
using static TorchSharp.torch;

namespace SharpClip.Tests.Generation.Diffusion;

/// <summary>
/// Writes a PyTorch zip checkpoint the way <c>torch.save</c> lays one out (<c>archive/data.pkl</c> as a protocol-2
/// pickle of <c>{"global_step": 0, "state_dict": {...}}</c> — the shape of SD's <c>.ckpt</c> files — with each tensor
/// rebuilt by <c>torch._utils._rebuild_tensor_v2</c> from a storage in <c>archive/data/N</c>). Test-only: it lets a
/// test turn the fixture's safetensors into a .ckpt without Python. Real <c>torch.load</c> (1.13) reads its output.
/// </summary>
internal static class TorchCheckpointWriter
{
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> stateDict)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        var pickle = new MemoryStream();
        var w = new BinaryWriter(pickle);
        w.Write((byte)0x80); w.Write((byte)2);                       // PROTO 2
        w.Write((byte)'}'); w.Write((byte)'(');                     // EMPTY_DICT, MARK
        Str(w, "global_step"); Int(w, 0);
        Str(w, "state_dict");
        w.Write((byte)'}'); w.Write((byte)'(');
        int storage = 0;
        foreach (var (name, tensor) in stateDict)
        {
            using var t = tensor.contiguous();
            string key = (storage++).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Str(w, name);
            Global(w, "torch._utils", "_rebuild_tensor_v2");
            w.Write((byte)'(');                                      // MARK: the arguments
            w.Write((byte)'(');                                      // MARK: persistent id
            Str(w, "storage"); Global(w, "torch", StorageType(t.dtype)); Str(w, key); Str(w, "cpu"); Int(w, checked((int)t.numel()));
            w.Write((byte)'t'); w.Write((byte)'Q');                  // TUPLE, BINPERSID
            Int(w, 0);                                               // storage offset
            Tuple(w, t.shape); Tuple(w, t.stride());
            w.Write((byte)0x89);                                     // NEWFALSE: requires_grad
            Global(w, "collections", "OrderedDict"); w.Write((byte)')'); w.Write((byte)'R'); // OrderedDict()
            w.Write((byte)'t'); w.Write((byte)'R');                  // TUPLE, REDUCE
            var entry = zip.CreateEntry($"archive/data/{key}", CompressionLevel.NoCompression);
            using var s = entry.Open();
            if (t.numel() > 0) s.Write(t.bytes);
        }
        w.Write((byte)'u'); w.Write((byte)'u'); w.Write((byte)'.'); // SETITEMS (inner), SETITEMS (outer), STOP
        w.Flush();
        Add(zip, "archive/data.pkl", pickle.ToArray());
        Add(zip, "archive/byteorder", Encoding.ASCII.GetBytes("little"));
        Add(zip, "archive/version", Encoding.ASCII.GetBytes("3\n"));
    }

    static string StorageType(ScalarType t) => t switch
    {
        ScalarType.Float32 => "FloatStorage", ScalarType.Float16 => "HalfStorage", ScalarType.BFloat16 => "BFloat16Storage",
        ScalarType.Float64 => "DoubleStorage", ScalarType.Int64 => "LongStorage", ScalarType.Int32 => "IntStorage",
        ScalarType.Byte => "ByteStorage", _ => throw new NotSupportedException(t.ToString()),
    };

    static void Add(ZipArchive zip, string name, byte[] bytes)
    {
        using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        s.Write(bytes);
    }

    static void Str(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((byte)'X'); w.Write(bytes.Length); w.Write(bytes);   // BINUNICODE
    }

    static void Int(BinaryWriter w, int v) { w.Write((byte)'J'); w.Write(v); } // BININT

    static void Global(BinaryWriter w, string module, string name) =>
        w.Write(Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));

    static void Tuple(BinaryWriter w, long[] values)
    {
        w.Write((byte)'(');
        foreach (var v in values) Int(w, checked((int)v));
        w.Write((byte)'t');
    }
}
