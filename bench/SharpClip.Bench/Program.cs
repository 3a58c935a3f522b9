namespace SharpClip.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        string suite = args.FirstOrDefault() ?? "";
        string[] rest = args.Skip(1).ToArray();
        // One line per suite.
        if (suite == "search") return SearchBench.Run(rest);
        Console.WriteLine("usage: dotnet run -c Release --project bench/SharpClip.Bench -- <suite> [options]; suites: search");
        return 1;
    }
}
