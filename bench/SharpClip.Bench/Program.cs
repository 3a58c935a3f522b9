namespace SharpClip.Bench;

public static class Program
{
    // One line per suite: the first argument picks it.
    static readonly Dictionary<string, Func<string[], int>> Suites = new(StringComparer.OrdinalIgnoreCase)
    {
        ["preprocess"] = PreprocessBench.Run,
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || !Suites.TryGetValue(args[0], out var run))
        {
            Console.Error.WriteLine($"usage: SharpClip.Bench <suite> [options]; suites: {string.Join(", ", Suites.Keys)}");
            return 2;
        }
        return run(args[1..]);
    }
}
