namespace SharpClip.Bench;

public static class Program
{
    // One line per suite: `dotnet run -c Release --project bench/SharpClip.Bench -- <suite> [args]`.
    public static int Main(string[] args) => args.FirstOrDefault() switch
    {
        "checkpoints" => CheckpointBench.Run(args[1..]),
        _ => Usage(),
    };

    static int Usage()
    {
        Console.WriteLine("usage: SharpClip.Bench <suite> [args]; suites: checkpoints");
        return 1;
    }
}
