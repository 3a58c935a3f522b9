using SharpClip.Checkpoints;
using SharpClip.Data;
using SharpClip.Demos.Synthetic;
using SharpClip.Evaluation;
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
[Collection(TrainerRunsCollection.Name)]
public class FineTuningPreprocessingTests
{
    // A fixture model as a SharpClip folder with the shared vocabulary and non-default preprocessing.
    static (string Folder, PreprocessingInfo Preprocessing) BilinearModelFolder(TempDir tmp)
    {
        var id = (string)Fixtures.Ids("models").First()[0];
        var folder = Path.Combine(tmp.Path, "model");
        using var source = CheckpointLoader.Read(Fixtures.PathOf(Fixtures.Entry("models", id).GetProperty("weights").GetString()!));
        int n = source.ResolvedConfig.ImageResolution;
        var preprocessing = PreprocessingInfo.ForResolution(n) with
        {
            ResizeShortestEdge = n + n / 2, Resample = ResampleFilter.Bilinear, Mean = [0.5f, 0.4f, 0.3f], Std = [0.2f, 0.25f, 0.3f],
        };
        ClipModelFolder.Write(folder, source.ResolvedConfig, source.StateDict, Fixtures.VocabPath, preprocessing);
        return (folder, preprocessing);
    }

    [Fact]
    public void TheTrainerPreparesImagesAsThePipelineDoesForTheSameCheckpoint()
    {
        using var tmp = new TempDir();
        var (folder, _) = BilinearModelFolder(tmp);

        using var pipeline = ClipPipeline.Load(folder);
        using var init = CheckpointLoader.Read(folder);
        var trainer = TrainingSetup.ImageProcessor(init, init.ResolvedConfig);
        Assert.Equal(pipeline.Processor.OutputSize, trainer.OutputSize);
        foreach (var image in Fixtures.Array("images").Take(4).Select(e => Fixtures.PathOf(e.GetProperty("file").GetString()!)))
            Assert.Equal(pipeline.Processor.Process(image), trainer.Process(image));
    }

    [Fact]
    public void AFineTunedFolderKeepsTheCheckpointsVocabularyAndPreprocessing()
    {
        using var tmp = new TempDir();
        var (folder, preprocessing) = BilinearModelFolder(tmp);
        var result = Trainer.Run(new TrainingConfig
        {
            Init = folder, Output = Path.Combine(tmp.Path, "run"),
            DataOptions = SyntheticShapesSpec.Options(new SyntheticShapesOptions { ImageSize = 32, Supersampling = 1, TrainCount = 16, ValidationCount = 8, HeldOutCount = 8, ShardSize = 16 }),
            BatchSize = 8, Steps = 2, WarmupSteps = 0, SaveEvery = 0, EvalEvery = 0, EvalSamples = 8, Workers = 1, Seed = 3,
        }, evaluation: TrainingEvaluator.Create);

        using var tuned = CheckpointLoader.Read(result.OutputDirectory);
        Assert.Equal(preprocessing, tuned.Preprocessing);
        Assert.Equal(File.ReadAllBytes(Fixtures.VocabPath), File.ReadAllBytes(tuned.VocabPath!));
        Assert.NotNull(result.LastEvaluation); // validation images prepared by the checkpoint's processor
    }
}
