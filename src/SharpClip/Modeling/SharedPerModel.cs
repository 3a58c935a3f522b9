using System.Runtime.CompilerServices;

namespace SharpClip.Modeling;

/// <summary>
/// One engine object per live <see cref="ClipModel"/> (an encoder copies the weights once, so every caller of a model
/// should share it): kept while the model lives, forgotten when the engine is disposed.
/// </summary>
internal sealed class SharedPerModel<T> where T : class
{
    readonly ConditionalWeakTable<ClipModel, T> _table = new();

    /// <summary>The kept object for <paramref name="model"/> when <paramref name="reusable"/> says it is, else a new one from <paramref name="make"/>.</summary>
    public T Get(ClipModel model, Func<T, bool> reusable, Func<T> make)
    {
        lock (_table)
        {
            if (_table.TryGetValue(model, out var known) && reusable(known)) return known;
            var made = make();
            _table.AddOrUpdate(model, made);
            return made;
        }
    }

    /// <summary>Forgets <paramref name="instance"/> if it is the one kept for <paramref name="model"/>.</summary>
    public void Forget(ClipModel model, T instance)
    {
        lock (_table)
            if (_table.TryGetValue(model, out var known) && ReferenceEquals(known, instance)) _table.Remove(model);
    }
}
