namespace SharpClip.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        var suite = args.Length > 0 ? args[0] : "";
        var rest = args.Skip(1).ToArray();
        // One line per suite.
        if (suite == "model") return ModelBench.Run(rest);
        Console.WriteLine("usage: SharpClip.Bench <suite> [options]; suites: model");
        return 2;
    }
}
