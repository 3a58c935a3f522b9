namespace SharpClip.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.WriteLine("SharpClip benchmarks: no suite registered yet");
        return 0;
    }
}
