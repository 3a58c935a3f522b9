using SharpClip.Files;
using SharpClip.Vision;

namespace SharpClip.Cli;

/// <summary>
/// Expands image arguments: files as given, folders walked recursively (<see cref="FileTree"/>: sorted, image
/// extensions only, no descent into folder links, regular files only). What a walk leaves out is said on stderr.
/// </summary>
public static class ImageInputs
{
    public static List<string> Expand(IEnumerable<string> arguments)
    {
        var files = new List<string>();
        foreach (var arg in arguments)
        {
            var status = FileStatus.Of(arg);
            if (status.Kind == FileKind.Directory)
            {
                var walk = FileTree.Walk(arg, ImageFormats.IsReadableName);
                files.AddRange(walk.Files.Select(f => f.Path));
                foreach (var s in walk.Skipped) Console.Error.WriteLine($"sharpclip: skipped {s.Path}: {s.Reason}");
            }
            else
            {
                FileTree.RequireRegularFile(arg); // a FIFO or device named by mistake is an error here, not a hang later
                files.Add(arg);
            }
        }
        return files;
    }
}
