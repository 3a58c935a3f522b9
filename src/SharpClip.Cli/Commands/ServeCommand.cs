using System.CommandLine;
using Microsoft.Extensions.Hosting;
using SharpClip.Web;

namespace SharpClip.Cli.Commands;

/// <summary><c>sharpclip serve</c>: the search web app over one index (loopback only unless --host says otherwise).</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var index = new Option<string>("--index") { Description = "Index file made by 'sharpclip index'", Required = true };
        var model = new Option<string>("--model", "-m") { Description = "Model for text and uploaded-image queries; default: the index's own" };
        var port = new Option<int>("--port") { Description = "TCP port (0 = any free port)", DefaultValueFactory = _ => 8080 };
        var host = new Option<string>("--host") { Description = "Address to listen on; anything but 127.0.0.1/localhost exposes your images to the network", DefaultValueFactory = _ => "127.0.0.1" };
        var cmd = new Command("serve", "Serve a search page and JSON API for an index.");
        foreach (var o in new Option[] { index, model, port, host }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            var app = SearchWebApp.Build(new SearchWebOptions
            {
                IndexPath = parse.GetValue(index)!,
                Model = parse.GetValue(model),
                Port = parse.GetValue(port),
                Host = parse.GetValue(host)!,
            });
            app.Start();
            foreach (var address in SearchWebApp.Addresses(app)) Console.WriteLine($"SharpClip search: {address}  (Ctrl+C stops)");
            app.WaitForShutdown();
            return 0;
        }));
        return cmd;
    }
}
