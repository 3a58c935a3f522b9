namespace SharpClip.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        var suite = args.Length > 0 ? args[0] : "";
        var rest = args.Length > 0 ? args[1..] : [];
        return suite switch
        {
            "tokenizer" => TokenizerBench.Run(rest),
            _ => Usage(),
        };
    }

    static int Usage()
    {
        Console.Error.WriteLine("usage: SharpClip.Bench <suite> [options]; suites: tokenizer");
        return 2;
    }
}
