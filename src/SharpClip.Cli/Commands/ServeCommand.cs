using System.CommandLine;
using Microsoft.Extensions.Hosting;
using SharpClip.Web;

namespace SharpClip.Cli.Commands;

/// <summary>
/// <c>sharpclip serve</c>: the local web app — search over an index, generation with any model <c>generate</c> takes,
/// or both (loopback only unless --host says otherwise).
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var index = new Option<string?>("--index") { Description = "Index file made by 'sharpclip index' (the search page)" };
        var model = new Option<string>("--model", "-m") { Description = "Model for text and uploaded-image queries; default: the index's own" };
        var generate = new Option<string?>("--generate-model") { Description = "A model 'sharpclip generate' takes (Stable Diffusion checkpoint, latent diffusion or DALL-E folder): the generate page" };
        var rerank = new Option<string?>("--rerank-model") { Description = "With --generate-model: a CLIP model that ranks the generated images; the page asks how many to keep" };
        var precision = new Option<string>("--generate-precision") { Description = "With --generate-model: fp32 (default), bf16 (several times faster on CPUs with avx512_bf16) or auto, as generate --precision", DefaultValueFactory = _ => "fp32" };
        var vocab = new Option<string?>("--vocab") { Description = "CLIP's BPE vocabulary for a Stable Diffusion single file or a reranker that carries none" };
        var port = new Option<int>("--port") { Description = "TCP port (0 = any free port)", DefaultValueFactory = _ => 8080 };
        var host = new Option<string>("--host") { Description = "Address to listen on; anything but 127.0.0.1/localhost exposes your images to the network", DefaultValueFactory = _ => "127.0.0.1" };
        var cmd = new Command("serve", "Serve a search page for an index, a generate page for a text-to-image model, or both, with their JSON API.");
        foreach (var o in new Option[] { index, model, generate, rerank, precision, vocab, port, host }) cmd.Options.Add(o);
        cmd.SetAction(parse => CliErrors.Guard(() =>
        {
            if (parse.GetValue(rerank) is not null && parse.GetValue(generate) is null) throw new ArgumentException("--rerank-model ranks generated images: it needs --generate-model");
            var app = SearchWebApp.Build(new SearchWebOptions
            {
                IndexPath = parse.GetValue(index),
                Model = parse.GetValue(model),
                Generation = parse.GetValue(generate) is { } g
                    ? new GenerateWebOptions
                    {
                        ModelPath = g, RerankModelPath = parse.GetValue(rerank), VocabPath = parse.GetValue(vocab),
                        Precision = Runtime.ComputeTarget.ParsePrecision(parse.GetValue(precision)!, "--generate-precision"),
                    } : null,
                Port = parse.GetValue(port),
                Host = parse.GetValue(host)!,
            });
            app.Start();
            string pages = string.Join(" + ", new[] { parse.GetValue(index) is null ? null : "search", parse.GetValue(generate) is null ? null : "generate" }.OfType<string>());
            foreach (var address in SearchWebApp.Addresses(app)) Console.WriteLine($"SharpClip {pages}: {address}  (Ctrl+C stops)");
            app.WaitForShutdown();
            return 0;
        }));
        return cmd;
    }
}
