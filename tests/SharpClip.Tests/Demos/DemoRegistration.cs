using System.Runtime.CompilerServices;

namespace SharpClip.Tests.Demos;

/// <summary>
/// Registers the demo data sets and the toy encoder before any test runs, as the CLI's Program does: many tests use
/// <c>synthetic:shapes</c> specs or <c>builtin:test-colors</c> through the core's registries.
/// </summary>
static class DemoRegistration
{
#pragma warning disable CA2255 // a test assembly is the program here; registration must precede every test class
    [ModuleInitializer]
    internal static void Register() => SharpClip.Demos.DemoRegistry.RegisterAll();
#pragma warning restore CA2255
}
