using SharpClip.Data;
using SharpClip.Data.Sources;
using SharpClip.Demos.Synthetic;
using SharpClip.Tests.Vision;

namespace SharpClip.Tests.Demos.Synthetic;

public class SyntheticShapesTests
{
    private static readonly SyntheticShapesOptions Small = new() { ImageSize = 32, TrainCount = 300, ValidationCount = 50, HeldOutCount = 120, Seed = 7 };

    [Fact]
    public void Samples_are_a_pure_function_of_seed_split_and_index()
    {
        var a = new SyntheticShapes(Small).Split(SyntheticSplit.Train);
        var b = new SyntheticShapes(Small).Split(SyntheticSplit.Train);
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(a.Render(i), b.Render(i));
            Assert.Equal(a.Captions(i), b.Captions(i));
            Assert.Equal(a.Scene(i).Describe(), b.Scene(i).Describe());
            Assert.Equal(a.Render(i), ((RawRgbImage)a.Sample(i).Image).RgbHwc);
        }
        Assert.NotEqual(a.Render(0), a.Render(1));
        var otherSeed = new SyntheticShapes(Small with { Seed = 8 }).Split(SyntheticSplit.Train);
        Assert.NotEqual(Enumerable.Range(0, 10).Select(i => a.Scene(i).Describe()), Enumerable.Range(0, 10).Select(i => otherSeed.Scene(i).Describe()));
        Assert.Equal(32 * 32 * 3, a.Render(0).Length);
    }

    [Fact]
    public void Held_out_pairs_never_appear_in_train_or_validation_and_only_they_appear_in_held_out()
    {
        var data = new SyntheticShapes(Small);
        var all = ShapeVocabulary.Shapes.SelectMany(s => Enumerable.Range(0, ShapeVocabulary.Colours.Count).Select(c => (s, c))).ToHashSet();
        Assert.Empty(data.SeenPairs.Intersect(data.HeldOutPairs));
        Assert.True(all.SetEquals(data.SeenPairs.Concat(data.HeldOutPairs)));
        Assert.Equal(ShapeVocabulary.Shapes.Count * Small.HeldOutColoursPerShape, data.HeldOutPairs.Count);
        // Every shape and every colour is still seen in training, so the held-out pairs are new combinations of known parts.
        Assert.Equal(ShapeVocabulary.Shapes.Count, data.SeenPairs.Select(p => p.Shape).Distinct().Count());
        Assert.Equal(ShapeVocabulary.Colours.Count, data.SeenPairs.Select(p => p.ColourIndex).Distinct().Count());

        var held = data.HeldOutPairs.ToHashSet();
        foreach (var split in new[] { SyntheticSplit.Train, SyntheticSplit.Validation })
        {
            var s = data.Split(split);
            for (int i = 0; i < s.Count; i++)
            {
                var scene = s.Scene(i);
                Assert.DoesNotContain((scene.Shape, scene.ColourIndex), held);
            }
        }
        var h = data.Split(SyntheticSplit.HeldOut);
        var heldSeen = Enumerable.Range(0, h.Count).Select(i => (h.Scene(i).Shape, h.Scene(i).ColourIndex)).ToList();
        Assert.All(heldSeen, p => Assert.Contains(p, held));
        Assert.True(heldSeen.Distinct().Count() >= held.Count - 2);   // 120 draws over 16 pairs cover (nearly) all
        // Train and validation are different scenes of the same distribution.
        var train = data.Split(SyntheticSplit.Train);
        var val = data.Split(SyntheticSplit.Validation);
        Assert.NotEqual(train.Render(0), val.Render(0));
    }

    [Fact]
    public void Captions_name_the_colour_and_shape_in_varied_wording()
    {
        var s = new SyntheticShapes(Small).Split(SyntheticSplit.Train);
        var distinct = new HashSet<string>();
        for (int i = 0; i < 100; i++)
        {
            var scene = s.Scene(i);
            var captions = s.Captions(i);
            Assert.Equal(Small.CaptionsPerImage, captions.Distinct().Count());
            foreach (var c in captions)
            {
                Assert.Contains(scene.Colour.Name, c);
                Assert.Contains(ShapeVocabulary.Noun(scene.Shape, scene.Count), c);
                Assert.DoesNotContain("  ", c);
                distinct.Add(c);
            }
        }
        Assert.True(distinct.Count > 300);
    }

    [Fact]
    public void Attributes_vary_over_the_split()
    {
        var s = new SyntheticShapes(Small).Split(SyntheticSplit.Train);
        var scenes = Enumerable.Range(0, s.Count).Select(s.Scene).ToList();
        Assert.Equal(ShapeVocabulary.Shapes.Count, scenes.Select(x => x.Shape).Distinct().Count());
        Assert.Equal(ShapeVocabulary.Colours.Count, scenes.Select(x => x.ColourIndex).Distinct().Count());
        Assert.Equal(2, scenes.Select(x => x.Size).Distinct().Count());
        Assert.Equal(5, scenes.Select(x => x.Position).Distinct().Count());
        Assert.Equal([1, 2, 3], scenes.Select(x => x.Count).Distinct().Order());
        Assert.All(scenes, x => Assert.Equal(x.Count, x.Objects.Count));
        // Objects stay inside the image and the background contrasts with the object colour.
        Assert.All(scenes.SelectMany(x => x.Objects), o => Assert.True(o.X - o.Radius >= -1e-9 && o.X + o.Radius <= 1 + 1e-9 && o.Y - o.Radius >= -1e-9 && o.Y + o.Radius <= 1 + 1e-9));
        foreach (var c in ShapeVocabulary.Colours)
            Assert.True(ShapeVocabulary.Backgrounds.Count(b => SceneSamplerDistance(b, c) >= ShapeVocabulary.MinContrast) >= 2, c.Name);
    }

    private static double SceneSamplerDistance((byte R, byte G, byte B) b, ShapeColour c) =>
        Math.Sqrt(Math.Pow(b.R - c.R, 2) + Math.Pow(b.G - c.G, 2) + Math.Pow(b.B - c.B, 2));

    /// <summary>Area of each shape in its unit frame, from plane geometry (independent of the rasteriser's tests).</summary>
    public static TheoryData<ShapeKind, double> UnitAreas => new()
    {
        { ShapeKind.Circle, Math.PI * 0.95 * 0.95 },
        { ShapeKind.Ring, Math.PI * (0.95 * 0.95 - 0.55 * 0.55) },
        { ShapeKind.Square, 1.4 * 1.4 },
        { ShapeKind.Diamond, 2 * 0.8 * 0.98 },
        { ShapeKind.Cross, 2 * (0.56 * 1.84) - 0.56 * 0.56 },
        { ShapeKind.Triangle, 3 * Math.Sqrt(3) / 4 },
        { ShapeKind.Hexagon, 3 * Math.Sqrt(3) / 2 * 0.95 * 0.95 },
        { ShapeKind.Star, 5 * 1.0 * 0.42 * Math.Sin(Math.PI / 5) },
    };

    [Theory]
    [MemberData(nameof(UnitAreas))]
    public void The_rasteriser_covers_the_geometric_area_with_antialiased_edges(ShapeKind shape, double unitArea)
    {
        const int size = 96;
        const double radius = 0.3;
        var scene = new ShapeScene(shape, 0, ShapeSize.Large, ShapePosition.Centre, 1,
            [new ShapeInstance(0.5, 0.5, radius, 0.2, 250, 0, 0)], new SceneBackground(0, 0, 200, 0, 0, 0, 1));
        var rgb = ShapeRasterizer.Render(scene, size, supersampling: 8);
        double covered = 0;
        int partial = 0;
        for (int i = 0; i < size * size; i++)
        {
            double a = rgb[i * 3] / 250.0;   // red goes 0 → 250 with coverage
            covered += a;
            if (a > 0.05 && a < 0.95) partial++;
            Assert.Equal(0, rgb[i * 3 + 1]);
            Assert.InRange(rgb[i * 3 + 2], 200 * (1 - a) - 1, 200 * (1 - a) + 1);   // blue blends the other way
        }
        double expected = unitArea * Math.Pow(radius * size, 2);
        Assert.InRange(covered, expected * 0.98, expected * 1.02);
        Assert.True(partial > 20, $"only {partial} edge pixels are partially covered");
    }

    [Theory]
    [MemberData(nameof(UnitAreas))]
    public void The_fast_paths_premises_hold_every_point_inside_the_inscribed_radius_is_in_the_shape_and_none_beyond_one(ShapeKind shape, double _)
    {
        var polygon = ShapeRasterizer.Polygon(shape);
        double inscribed = ShapeRasterizer.InscribedRadius(shape);
        for (int k = 0; k < 3600; k++)
        {
            double a = k * Math.PI / 1800;
            Assert.False(ShapeRasterizer.Inside(shape, polygon, 1.0001 * Math.Cos(a), 1.0001 * Math.Sin(a)));
            if (shape == ShapeKind.Ring)
            {
                Assert.False(ShapeRasterizer.Inside(shape, polygon, 0.5499 * Math.Cos(a), 0.5499 * Math.Sin(a)));
                Assert.True(ShapeRasterizer.Inside(shape, polygon, 0.5501 * Math.Cos(a), 0.5501 * Math.Sin(a)));
            }
            else
                for (int j = 1; j <= 10; j++)
                    if (inscribed * j / 10 * (1 - 1e-9) is var r)
                        Assert.True(ShapeRasterizer.Inside(shape, polygon, r * Math.Cos(a), r * Math.Sin(a)), $"{shape} at r={r}, angle {a}");
        }
    }

    [Fact]
    public void Noise_and_gradient_come_from_the_background_description()
    {
        var flat = new ShapeScene(ShapeKind.Circle, 0, ShapeSize.Small, ShapePosition.Left, 1, [], new SceneBackground(100, 110, 120, 0, 0, 0, 3));
        Assert.All(ShapeRasterizer.Render(flat, 8).Chunk(3), p => Assert.Equal(new byte[] { 100, 110, 120 }, p));
        var noisy = flat with { Background = flat.Background with { Noise = 8 } };
        var px = ShapeRasterizer.Render(noisy, 16);
        Assert.All(px.Where((_, i) => i % 3 == 0), v => Assert.InRange(v, 92, 108));
        Assert.True(px.Where((_, i) => i % 3 == 0).Distinct().Count() > 8);
        var ramp = flat with { Background = flat.Background with { GradientX = 40 } };
        var r = ShapeRasterizer.Render(ramp, 16);
        Assert.True(r[15 * 3] > r[0] + 30);   // left to right along the top row
    }

    [Fact]
    public void Zero_shot_tasks_label_scenes_consistently_with_their_attributes()
    {
        var data = new SyntheticShapes(Small);
        var train = data.Split(SyntheticSplit.Train);
        var held = data.Split(SyntheticSplit.HeldOut);
        foreach (var task in data.ZeroShotTasks)
        {
            Assert.Equal(task.ClassCount, task.Prompts.Count);
            Assert.All(task.Prompts, p => Assert.NotEmpty(p));
            Assert.Equal(task.ClassCount, task.ClassNames.Distinct().Count());
        }
        for (int i = 0; i < 50; i++)
        {
            var scene = train.Scene(i);
            Assert.Equal(ShapeVocabulary.Noun(scene.Shape), data.ShapeTask.ClassNames[data.ShapeTask.Label(scene)]);
            Assert.Equal(scene.Colour.Name, data.ColourTask.ClassNames[data.ColourTask.Label(scene)]);
            Assert.Equal(ShapeVocabulary.SizeWord(scene.Size), data.SizeTask.ClassNames[data.SizeTask.Label(scene)]);
            Assert.Equal(ShapeVocabulary.PositionPhrase(scene.Position), data.PositionTask.ClassNames[data.PositionTask.Label(scene)]);
            Assert.Equal(ShapeVocabulary.CountWord(scene.Count), data.CountTask.ClassNames[data.CountTask.Label(scene)]);
            Assert.Equal($"{scene.Colour.Name} {ShapeVocabulary.Noun(scene.Shape)}", data.ColourShapeTask.ClassNames[data.ColourShapeTask.Label(scene)]);
            Assert.Equal(-1, data.HeldOutColourShapeTask.Label(scene));
            var h = held.Scene(i);
            int label = data.HeldOutColourShapeTask.Label(h);
            Assert.Equal($"{h.Colour.Name} {ShapeVocabulary.Noun(h.Shape)}", data.HeldOutColourShapeTask.ClassNames[label]);
            Assert.Contains(data.HeldOutColourShapeTask.ClassNames[label], data.HeldOutColourShapeTask.Prompts[label][0]);
        }
        Assert.Equal(80, data.ColourShapeTask.ClassCount);
        Assert.Equal(1.0 / 16, data.HeldOutColourShapeTask.Chance);
        Assert.Contains("an orange circle", data.ColourTask.Prompts[1]);
    }

    [Fact]
    public void The_split_is_a_sharded_lazy_source_with_stable_keys()
    {
        var split = new SyntheticShapes(Small with { ShardSize = 128 }).Split(SyntheticSplit.Train);
        Assert.Equal(3, split.Shards.Count);
        Assert.Equal(300, split.CountHint);
        var samples = split.ReadAll().ToList();
        Assert.Equal(300, samples.Count);
        Assert.Equal("train-000123", samples[123].Key);
        Assert.Equal(123, split.IndexOf("train-000123"));
        Assert.Throws<ArgumentException>(() => split.IndexOf("heldout-000001"));
        Assert.IsType<SyntheticShapesSplit>(ImageTextSources.Open("synthetic:shapes:heldout"));
    }

    [Theory]
    [InlineData(SyntheticExportFormat.Csv)]
    [InlineData(SyntheticExportFormat.Jsonl)]
    [InlineData(SyntheticExportFormat.Folder)]
    [InlineData(SyntheticExportFormat.Tar)]
    public void An_export_reads_back_through_the_file_readers_with_identical_pixels(SyntheticExportFormat format)
    {
        using var dir = new TempDir();
        var split = new SyntheticShapes(Small with { ImageSize = 16, HeldOutCount = 7 }).Split(SyntheticSplit.HeldOut);
        var spec = SyntheticShapesExporter.Export(split, dir.Path, format, samplesPerShard: 3);
        var source = ImageTextSources.Open(spec);
        if (format == SyntheticExportFormat.Tar) Assert.Equal(3, source.Shards.Count);
        var stats = new DataStats();
        var samples = source.ReadAll(stats).ToList();
        Assert.Equal(0, stats.TotalSkipped);
        Assert.Equal(7, samples.Count);
        for (int i = 0; i < 7; i++)
        {
            Assert.Equal(split.Captions(i), samples[i].Captions);
            byte[] png = samples[i].Image switch
            {
                ImageFile f => f.ReadAllBytes(),
                EncodedImage e => e.Bytes.ToArray(),
                _ => throw new InvalidOperationException(),
            };
            var (w, h, rgb) = PngWriterTests.Decode(png);
            Assert.Equal((16, 16), (w, h));
            Assert.Equal(split.Render(i), rgb);
        }
    }
}
