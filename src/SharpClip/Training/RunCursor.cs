using System.Diagnostics;
using SharpClip.Data.Loading;

namespace SharpClip.Training;

/// <summary>
/// Where a training run stands and how fast it goes: it walks the loader from the run's position across epochs to the
/// last step (the loader is a pure function of seed, epoch and position, so a resumed run reads the same batches),
/// advances the position per step, and times steps. A step's time starts when its batch is asked for (waiting for data
/// counts) and excludes what the caller does after it (logging, evaluation, checkpoints). One implementation for the
/// CLIP trainer and the generative trainers, so resume and timing behave alike in all of them.
/// </summary>
internal sealed class RunCursor
{
    readonly Stopwatch _clock = new();
    double _trainingSeconds, _samplesPerSecond;
    long _stepsThisCall, _stepStarted;

    public TrainingPosition Position { get; set; } = TrainingPosition.Start;
    public long TotalSteps { get; set; }

    /// <summary>The batches still to train on; <paramref name="what"/> names a sample in the empty-epoch error ("pairs", "images").</summary>
    public IEnumerable<ClipBatch> Batches(ClipDataLoader loader, string what, CancellationToken cancellationToken)
    {
        _clock.Start();
        while (Position.Step < TotalSteps)
        {
            bool any = Position.BatchInEpoch > 0;
            _stepStarted = Stopwatch.GetTimestamp();
            foreach (var batch in loader.ReadEpoch(Position.Epoch, Position.BatchInEpoch, cancellationToken))
            {
                any = true;
                yield return batch;
                if (Position.Step >= TotalSteps) yield break;
                _stepStarted = Stopwatch.GetTimestamp();
            }
            if (!any)
                throw new InvalidDataException($"{loader.Source.Name}: epoch {Position.Epoch} gave no batch of {loader.Options.BatchSize} usable {what} ({loader.Stats})");
            Position = Position with { Epoch = Position.Epoch + 1, BatchInEpoch = 0 };
        }
    }

    /// <summary>Moves past a step of <paramref name="samples"/> and times it.</summary>
    public StepTiming Advance(int samples)
    {
        Position = Position with { Step = Position.Step + 1, BatchInEpoch = Position.BatchInEpoch + 1, SamplesSeen = Position.SamplesSeen + samples };
        double seconds = Stopwatch.GetElapsedTime(_stepStarted).TotalSeconds;
        _trainingSeconds += seconds;
        _stepsThisCall++;
        double rate = samples / Math.Max(seconds, 1e-9);
        _samplesPerSecond = _stepsThisCall == 1 ? rate : 0.9 * _samplesPerSecond + 0.1 * rate;   // a moving average
        return new StepTiming(_samplesPerSecond, _clock.Elapsed,
            TimeSpan.FromSeconds(_trainingSeconds / _stepsThisCall * (TotalSteps - Position.Step)));
    }
}

/// <summary>A step's pace: samples/s (moving average), time since the run (re)started, and the estimated time left.</summary>
internal readonly record struct StepTiming(double SamplesPerSecond, TimeSpan Elapsed, TimeSpan Remaining);
