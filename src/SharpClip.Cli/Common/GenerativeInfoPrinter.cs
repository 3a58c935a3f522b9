using System.Text.Json;
using SharpClip.Generation.Description;

namespace SharpClip.Cli;

/// <summary><c>sharpclip info</c>'s output for a text-to-image model: a <see cref="GenerativeModelDescription"/> as text or JSON.</summary>
public static class GenerativeInfoPrinter
{
    public static int Print(GenerativeModelDescription d, bool json)
    {
        if (json) { Console.WriteLine(JsonSerializer.Serialize(d, new JsonSerializerOptions { WriteIndented = true })); return 0; }
        Console.WriteLine($"{d.Path}\n  kind          {d.Kind}\n  format        {d.Format}\n  parameters    {d.TotalParameters:N0}");
        foreach (var part in d.Parts)
        {
            Console.WriteLine($"  {part.Name,-13} {part.Parameters:N0} parameters");
            foreach (var (key, value) in part.Config) Console.WriteLine($"    {key,-24} {GenerativeModelDescription.Show(value)}");
        }
        foreach (var (key, value) in d.Settings) Console.WriteLine($"  {key,-13} {GenerativeModelDescription.Show(value)}");
        foreach (var note in d.Notes) Console.WriteLine($"  note: {note}");
        return 0;
    }
}
