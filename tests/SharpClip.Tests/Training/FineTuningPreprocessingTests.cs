using SharpClip.Checkpoints;
using SharpClip.Pipelines;
using SharpClip.Tests.Infrastructure;
using SharpClip.Training;
using SharpClip.Vision;

namespace SharpClip.Tests.Training;

/// <summary>
/// Fine-tuning must prepare images exactly as inference does with the same checkpoint: the validation images of the
/// periodic evaluation (resize + centre crop) and the normalisation of the augmented training images. A checkpoint whose
/// preprocessor_config.json asks for bilinear resizing to an edge larger than the crop once lost both in the trainer.
/// </summary>
public class FineTuningPreprocessingTests
{
    [Fact]
    public void TheTrainerPreparesImagesAsThePipelineDoesForTheSameCheckpoint()
    {
        var id = (string)Fixtures.Ids("models").First()[0];
        using var tmp = new TempDir();
        var folder = Path.Combine(tmp.Path, "model");
        using (var source = CheckpointLoader.Read(Fixtures.PathOf(Fixtures.Entry("models", id).GetProperty("weights").GetString()!)))
        {
            int n = source.ResolvedConfig.ImageResolution;
            var preprocessing = PreprocessingInfo.ForResolution(n) with
            {
                ResizeShortestEdge = n + n / 2, Resample = ResampleFilter.Bilinear, Mean = [0.5f, 0.4f, 0.3f], Std = [0.2f, 0.25f, 0.3f],
            };
            ClipModelFolder.Write(folder, source.ResolvedConfig, source.StateDict, Fixtures.VocabPath, preprocessing);
        }

        using var pipeline = ClipPipeline.Load(folder);
        using var init = CheckpointLoader.Read(folder);
        var trainer = Trainer.ImageProcessor(init, init.ResolvedConfig);
        Assert.Equal(pipeline.Processor.OutputSize, trainer.OutputSize);
        foreach (var image in Fixtures.Array("images").Take(4).Select(e => Fixtures.PathOf(e.GetProperty("file").GetString()!)))
            Assert.Equal(pipeline.Processor.Process(image), trainer.Process(image));
    }
}
