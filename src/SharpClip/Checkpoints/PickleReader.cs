using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace SharpClip.Checkpoints;

/// <summary>
/// What a pickle may construct beyond plain data. The reader never imports or calls anything itself: every global,
/// call, object creation and persistent id goes through the host, which builds inert C# values or refuses
/// (<see cref="UnsafePickleException"/>).
/// </summary>
internal interface IPickleHost
{
    /// <summary>GLOBAL / STACK_GLOBAL: return a marker for an allowed <paramref name="module"/>.<paramref name="name"/>, or throw.</summary>
    object ResolveGlobal(string module, string name);

    /// <summary>REDUCE (and INST/OBJ): <c>callable(*args)</c> for a marker returned by <see cref="ResolveGlobal"/>.</summary>
    object? Call(object callable, PickleTuple args);

    /// <summary>NEWOBJ: <c>cls.__new__(cls, *args)</c>.</summary>
    object NewObject(object cls, PickleTuple args);

    /// <summary>BUILD: <c>target.__setstate__(state)</c> or <c>target.__dict__.update(state)</c>.</summary>
    void Build(object? target, object? state);

    /// <summary>PERSID / BINPERSID: resolve an out-of-band reference (PyTorch's storages).</summary>
    object? PersistentLoad(object? pid);
}

/// <summary>
/// A pickle interpreter (protocols 0-5) that only moves data: it implements the opcodes' stack/memo semantics and
/// hands every reference to code (globals, calls) to an <see cref="IPickleHost"/> allow-list. Reads exactly one
/// pickle per <see cref="Load()"/>, stopping after STOP, so several pickles can follow each other in one stream
/// (PyTorch's legacy format).
/// </summary>
internal sealed class PickleReader
{
    const int MaxLine = 1 << 16;
    const int MaxLongBytes = 1 << 16;

    readonly Stream _stream;
    readonly string _source;
    readonly IPickleHost _host;
    long _position;

    public PickleReader(Stream stream, string source, IPickleHost host)
    {
        _stream = stream;
        _source = source;
        _host = host;
    }

    /// <summary>Unpickles one complete value from <paramref name="data"/>.</summary>
    public static object? Load(byte[] data, string source, IPickleHost host)
    {
        using var ms = new MemoryStream(data, writable: false);
        return new PickleReader(ms, source, host).Load();
    }

    /// <summary>Reads opcodes until STOP and returns the value on top of the stack.</summary>
    public object? Load()
    {
        var stack = new List<object?>();
        var marks = new Stack<int>();
        var memo = new Dictionary<long, object?>();

        while (true)
        {
            long at = _position;
            int op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break;                                   // PROTO: version, nothing to do
                case 0x95: ReadBytes(8); break;                                 // FRAME: a length hint only
                case '.':                                                       // STOP
                    if (stack.Count != 1 || marks.Count != 0) throw Bad(at, $"STOP with {stack.Count} values on the stack");
                    return stack[0];

                case '(': marks.Push(stack.Count); break;                       // MARK
                case '0': Pop(stack, at); break;                                // POP
                case '1': PopMark(stack, marks, at); break;                     // POP_MARK
                case '2': stack.Add(Top(stack, at)); break;                     // DUP

                case 'N': stack.Add(null); break;                               // NONE
                case 0x88: stack.Add(true); break;                              // NEWTRUE
                case 0x89: stack.Add(false); break;                             // NEWFALSE
                case 'I': stack.Add(ParseIntLine(ReadLine(), at)); break;       // INT (text; I01/I00 are bools)
                case 'L': stack.Add(ParseLongLine(ReadLine(), at)); break;      // LONG (text)
                case 'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break;  // BININT
                case 'K': stack.Add((long)ReadByte()); break;                   // BININT1
                case 'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break; // BININT2
                case 0x8a: stack.Add(ReadLong(ReadByte(), at)); break;          // LONG1
                case 0x8b: stack.Add(ReadLong(ReadLength(4, at), at)); break;   // LONG4
                case 'F':                                                       // FLOAT (text)
                    if (!double.TryParse(ReadLine(), NumberStyles.Float, CultureInfo.InvariantCulture, out double f))
                        throw Bad(at, "malformed FLOAT");
                    stack.Add(f);
                    break;
                case 'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break;          // BINFLOAT

                case 'X': stack.Add(Utf8(ReadBytes(ReadLength(4, at)), at)); break;   // BINUNICODE
                case 0x8c: stack.Add(Utf8(ReadBytes(ReadByte()), at)); break;         // SHORT_BINUNICODE
                case 0x8d: stack.Add(Utf8(ReadBytes(ReadLength(8, at)), at)); break;  // BINUNICODE8
                case 'V': stack.Add(RawUnicodeEscape(ReadLine())); break;             // UNICODE (text)
                case 'S': stack.Add(PythonStringLiteral(ReadLine(), at)); break;      // STRING (py2 str, text)
                case 'T': stack.Add(Py2String(ReadBytes(ReadLength(4, at)))); break;  // BINSTRING
                case 'U': stack.Add(Py2String(ReadBytes(ReadByte()))); break;         // SHORT_BINSTRING
                case 'B': stack.Add(ReadBytes(ReadLength(4, at))); break;             // BINBYTES
                case 'C': stack.Add(ReadBytes(ReadByte())); break;                    // SHORT_BINBYTES
                case 0x8e: stack.Add(ReadBytes(ReadLength(8, at))); break;            // BINBYTES8
                case 0x96: stack.Add(ReadBytes(ReadLength(8, at))); break;            // BYTEARRAY8 (as bytes)

                case ']': stack.Add(new List<object?>()); break;                // EMPTY_LIST
                case 'l': stack.Add(PopMark(stack, marks, at)); break;          // LIST
                case 'a':                                                       // APPEND
                {
                    var item = Pop(stack, at);
                    AsList(Top(stack, at), at).Add(item);
                    break;
                }
                case 'e':                                                       // APPENDS
                {
                    var items = PopMark(stack, marks, at);
                    AsList(Top(stack, at), at).AddRange(items);
                    break;
                }

                case ')': stack.Add(PickleTuple.Empty); break;                  // EMPTY_TUPLE
                case 't': stack.Add(new PickleTuple(PopMark(stack, marks, at).ToArray())); break; // TUPLE
                case 0x85: stack.Add(new PickleTuple(PopN(stack, 1, at))); break;                 // TUPLE1
                case 0x86: stack.Add(new PickleTuple(PopN(stack, 2, at))); break;                 // TUPLE2
                case 0x87: stack.Add(new PickleTuple(PopN(stack, 3, at))); break;                 // TUPLE3

                case '}': stack.Add(new PickleDict()); break;                   // EMPTY_DICT
                case 'd':                                                       // DICT
                {
                    var d = new PickleDict();
                    SetItems(d, PopMark(stack, marks, at), at);
                    stack.Add(d);
                    break;
                }
                case 's':                                                       // SETITEM
                {
                    var value = Pop(stack, at);
                    var key = Pop(stack, at);
                    AsDict(Top(stack, at), at).Set(key, value);
                    break;
                }
                case 'u':                                                       // SETITEMS
                {
                    var items = PopMark(stack, marks, at);
                    SetItems(AsDict(Top(stack, at), at), items, at);
                    break;
                }

                case 0x8f: stack.Add(new PickleSet([])); break;                 // EMPTY_SET
                case 0x90:                                                      // ADDITEMS
                {
                    var items = PopMark(stack, marks, at);
                    if (Top(stack, at) is not PickleSet set) throw Bad(at, "ADDITEMS on a value that is not a set");
                    set.Items.AddRange(items);
                    break;
                }
                case 0x91: stack.Add(new PickleSet(PopMark(stack, marks, at))); break;  // FROZENSET

                case 'g': stack.Add(MemoGet(memo, ParseIndex(ReadLine(), at), at)); break;   // GET
                case 'h': stack.Add(MemoGet(memo, ReadByte(), at)); break;                   // BINGET
                case 'j': stack.Add(MemoGet(memo, BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)), at)); break; // LONG_BINGET
                case 'p': memo[ParseIndex(ReadLine(), at)] = Top(stack, at); break;          // PUT
                case 'q': memo[ReadByte()] = Top(stack, at); break;                          // BINPUT
                case 'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Top(stack, at); break; // LONG_BINPUT
                case 0x94: memo[memo.Count] = Top(stack, at); break;                         // MEMOIZE

                case 'c':                                                       // GLOBAL "module\nname\n"
                {
                    string module = ReadLine(), name = ReadLine();
                    stack.Add(_host.ResolveGlobal(module, name));
                    break;
                }
                case 0x93:                                                      // STACK_GLOBAL
                {
                    var name = Pop(stack, at) as string;
                    var module = Pop(stack, at) as string;
                    if (module is null || name is null) throw Bad(at, "STACK_GLOBAL needs two strings");
                    stack.Add(_host.ResolveGlobal(module, name));
                    break;
                }
                case 'R':                                                       // REDUCE
                {
                    var args = Pop(stack, at) as PickleTuple ?? throw Bad(at, "REDUCE arguments are not a tuple");
                    var fn = Pop(stack, at) ?? throw Bad(at, "REDUCE on None");
                    stack.Add(_host.Call(fn, args));
                    break;
                }
                case 0x81:                                                      // NEWOBJ
                {
                    var args = Pop(stack, at) as PickleTuple ?? throw Bad(at, "NEWOBJ arguments are not a tuple");
                    var cls = Pop(stack, at) ?? throw Bad(at, "NEWOBJ on None");
                    stack.Add(_host.NewObject(cls, args));
                    break;
                }
                case 0x92:                                                      // NEWOBJ_EX
                {
                    var kwargs = Pop(stack, at);
                    var args = Pop(stack, at) as PickleTuple ?? throw Bad(at, "NEWOBJ_EX arguments are not a tuple");
                    var cls = Pop(stack, at) ?? throw Bad(at, "NEWOBJ_EX on None");
                    if (kwargs is PickleDict { Count: > 0 }) throw Bad(at, "NEWOBJ_EX with keyword arguments is not supported");
                    stack.Add(_host.NewObject(cls, args));
                    break;
                }
                case 'i':                                                       // INST "module\nname\n" + marked args
                {
                    string module = ReadLine(), name = ReadLine();
                    var cls = _host.ResolveGlobal(module, name);
                    stack.Add(_host.Call(cls, new PickleTuple(PopMark(stack, marks, at).ToArray())));
                    break;
                }
                case 'o':                                                       // OBJ: marked (cls, *args)
                {
                    var items = PopMark(stack, marks, at);
                    if (items.Count == 0 || items[0] is null) throw Bad(at, "OBJ without a class");
                    stack.Add(_host.Call(items[0]!, new PickleTuple(items.Skip(1).ToArray())));
                    break;
                }
                case 'b':                                                       // BUILD
                {
                    var state = Pop(stack, at);
                    _host.Build(Top(stack, at), state);
                    break;
                }
                case 'Q': stack.Add(_host.PersistentLoad(Pop(stack, at))); break;    // BINPERSID
                case 'P': stack.Add(_host.PersistentLoad(ReadLine())); break;        // PERSID

                case 0x82: case 0x83: case 0x84:                                // EXT1/2/4
                    throw new UnsafePickleException(_source, "copyreg extension registry", "extension codes name arbitrary classes");
                case 0x97: case 0x98:                                           // NEXT_BUFFER / READONLY_BUFFER
                    throw Bad(at, "out-of-band pickle buffers are not supported");
                default:
                    throw Bad(at, $"unknown pickle opcode 0x{op:x2} (not a pickle, or corrupted)");
            }
        }
    }

    // ---- stack helpers ----

    object? Pop(List<object?> stack, long at)
    {
        if (stack.Count == 0) throw Bad(at, "pickle stack underflow");
        var v = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return v;
    }

    object? Top(List<object?> stack, long at) => stack.Count > 0 ? stack[^1] : throw Bad(at, "pickle stack underflow");

    object?[] PopN(List<object?> stack, int n, long at)
    {
        if (stack.Count < n) throw Bad(at, "pickle stack underflow");
        var items = stack.GetRange(stack.Count - n, n).ToArray();
        stack.RemoveRange(stack.Count - n, n);
        return items;
    }

    List<object?> PopMark(List<object?> stack, Stack<int> marks, long at)
    {
        if (marks.Count == 0) throw Bad(at, "pickle MARK missing");
        int m = marks.Pop();
        if (m > stack.Count) throw Bad(at, "pickle MARK past the stack");
        var items = stack.GetRange(m, stack.Count - m);
        stack.RemoveRange(m, stack.Count - m);
        return items;
    }

    List<object?> AsList(object? v, long at) => v as List<object?> ?? throw Bad(at, "APPEND to a value that is not a list");

    PickleDict AsDict(object? v, long at) => v as PickleDict ?? throw Bad(at, "SETITEM on a value that is not a dict");

    void SetItems(PickleDict d, List<object?> items, long at)
    {
        if (items.Count % 2 != 0) throw Bad(at, "odd number of items for a dict");
        for (int i = 0; i < items.Count; i += 2) d.Set(items[i], items[i + 1]);
    }

    object? MemoGet(Dictionary<long, object?> memo, long index, long at) =>
        memo.TryGetValue(index, out var v) ? v : throw Bad(at, $"memo entry {index} read before it was written");

    // ---- byte-level reading ----

    int ReadByte()
    {
        int b = _stream.ReadByte();
        if (b < 0) throw Bad(_position, "pickle ends before STOP (truncated file?)");
        _position++;
        return b;
    }

    byte[] ReadBytes(long count)
    {
        if (count < 0) throw Bad(_position, "negative length");
        if (_stream.CanSeek && count > _stream.Length - _stream.Position)
            throw Bad(_position, $"a length of {count} bytes runs past the end of the data (truncated file?)");
        if (count > int.MaxValue) throw Bad(_position, $"a {count}-byte value is too large");
        var buf = new byte[count];
        try { _stream.ReadExactly(buf); }
        catch (EndOfStreamException) { throw Bad(_position, "pickle ends inside a value (truncated file?)"); }
        _position += count;
        return buf;
    }

    long ReadLength(int width, long at)
    {
        var b = ReadBytes(width);
        // Python reads 4-byte lengths as unsigned ('<I'): 0xFFFFFFFF is 4 GB, not -1.
        long n = width == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadInt64LittleEndian(b);
        return n >= 0 ? n : throw Bad(at, $"a length of {(ulong)n} bytes runs past the end of the data");
    }

    string ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            int b = ReadByte();
            if (b == '\n') return sb.ToString();
            if (sb.Length >= MaxLine) throw Bad(_position, "text opcode argument too long");
            sb.Append((char)b); // protocol-0 lines are ASCII (or latin-1 for raw-unicode-escape)
        }
    }

    object ReadLong(long byteCount, long at)
    {
        if (byteCount > MaxLongBytes) throw Bad(at, $"a {byteCount}-byte integer is too large");
        var v = new BigInteger(ReadBytes(byteCount), isUnsigned: false, isBigEndian: false);
        return v >= long.MinValue && v <= long.MaxValue ? (object)(long)v : v;
    }

    // ---- text-protocol parsing ----

    object ParseIntLine(string s, long at)
    {
        if (s == "01") return true;
        if (s == "00") return false;
        return BigInteger.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v)
            ? (v >= long.MinValue && v <= long.MaxValue ? (object)(long)v : v)
            : throw Bad(at, "malformed INT");
    }

    object ParseLongLine(string s, long at) => ParseIntLine(s.EndsWith('L') ? s[..^1] : s, at);

    long ParseIndex(string s, long at) =>
        long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : throw Bad(at, "malformed memo index");

    string Utf8(byte[] bytes, long at)
    {
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Bad(at, "string is not valid UTF-8"); }
    }

    // Python 2 str: torch.load decodes these as UTF-8 where possible, so do the same and fall back to latin-1.
    static string Py2String(byte[] bytes)
    {
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { return Encoding.Latin1.GetString(bytes); }
    }

    static string RawUnicodeEscape(string line)
    {
        var sb = new StringBuilder(line.Length);
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\' && i + 1 < line.Length && (line[i + 1] == 'u' || line[i + 1] == 'U'))
            {
                int digits = line[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + digits <= line.Length &&
                    int.TryParse(line.AsSpan(i + 2, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int cp))
                {
                    sb.Append(char.ConvertFromUtf32(cp));
                    i += 1 + digits;
                    continue;
                }
            }
            sb.Append(line[i]);
        }
        return sb.ToString();
    }

    string PythonStringLiteral(string s, long at)
    {
        if (s.Length < 2 || s[0] != s[^1] || (s[0] != '\'' && s[0] != '"')) throw Bad(at, "malformed STRING");
        var body = s[1..^1];
        var bytes = new List<byte>();
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c != '\\' || i + 1 == body.Length) { bytes.Add((byte)c); continue; }
            char e = body[++i];
            switch (e)
            {
                case 'n': bytes.Add((byte)'\n'); break;
                case 'r': bytes.Add((byte)'\r'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case '0': bytes.Add(0); break;
                case 'x':
                    if (i + 2 >= body.Length ||
                        !byte.TryParse(body.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte x))
                        throw Bad(at, "malformed STRING escape");
                    bytes.Add(x);
                    i += 2;
                    break;
                default: bytes.Add((byte)e); break;
            }
        }
        return Py2String(bytes.ToArray());
    }

    InvalidDataException Bad(long at, string why) => new($"{_source}: {why} (pickle byte {at})");
}
