using SharpClip.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpClip.Tests.Vision;

/// <summary>
/// The [−1, 1] NCHW ↔ 8-bit conversions against CompVis's scripts' arithmetic written out in scalar float32
/// (img2img.py: <c>2 · (x / 255) − 1</c>; txt2img.py: <c>uint8(255 · clamp((x + 1) / 2, 0, 1))</c>, truncated), and
/// their layouts. The DDIM case of the generative fixtures checks the bytes against the reference's own as well.
/// </summary>
public class SignedImageTensorsTests
{
    [Fact]
    public void BytesBecomeSignedFloatsInNchwAsImg2ImgComputesThem()
    {
        // 2 × 3 image, every channel value distinct, covering 0 and 255.
        byte[] pixels = [0, 255, 1, 2, 127, 128, 200, 51, 254, 17, 99, 3, 5, 7, 11, 13, 19, 23];
        using var images = SignedImageTensors.FromRgbImages([new RgbImage(3, 2, pixels), new RgbImage(3, 2, [.. pixels.Reverse()])]);
        Assert.Equal([2L, 3, 2, 3], images.shape);
        Assert.Equal(ScalarType.Float32, images.dtype);
        var values = images.data<float>().ToArray();
        for (int b = 0; b < 2; b++)
        for (int c = 0; c < 3; c++)
        for (int y = 0; y < 2; y++)
        for (int x = 0; x < 3; x++)
        {
            byte v = b == 0 ? pixels[(y * 3 + x) * 3 + c] : pixels[pixels.Length - 1 - ((y * 3 + x) * 3 + c)];
            float expected = 2f * (v / 255f) - 1f;
            Assert.Equal(expected, values[((b * 3 + c) * 2 + y) * 3 + x]);
        }
        Assert.Equal(-1f, values[0]);  // b0, R, (0,0) = 0
        Assert.Equal(1f, values[6]);   // b0, G, (0,0) = 255
    }

    [Fact]
    public void SignedFloatsBecomeBytesByTruncationWithClamping()
    {
        // [1, 3, 1, 4]: per channel four values; HWC output puts the three channels of a pixel together.
        float[] r = [-1f, 1f, -2f, 1.5f];                    // ends, and beyond both (clamped)
        float[] g = [0f, 0.0039215f, -0.0039215f, 0.5f];
        float[] b = [2f * 127.9f / 255f - 1f, 2f * 200.99f / 255f - 1f, 0.9999f, -0.9999f]; // rounding would give 128 and 201
        using var images = torch.tensor([.. r, .. g, .. b], [1, 3, 1, 4]);
        using var bytes = SignedImageTensors.ToBytesHwc(images);
        Assert.Equal([1L, 1, 4, 3], bytes.shape);
        var actual = bytes.data<byte>().ToArray();
        for (int x = 0; x < 4; x++)
        {
            float[] channel = [r[x], g[x], b[x]];
            for (int c = 0; c < 3; c++)
            {
                float unit = Math.Clamp((channel[c] + 1f) / 2f, 0f, 1f);
                Assert.Equal((byte)(255f * unit), actual[x * 3 + c]);
            }
        }
        Assert.Equal([0, 127, 127], actual[0..3]);
        Assert.Equal(200, actual[5]);
        var rgb = SignedImageTensors.ToRgbImages(images).Single();
        Assert.Equal(actual, rgb.Pixels);
        Assert.Equal((4, 1), (rgb.Width, rgb.Height));
    }

    [Fact]
    public void BadShapesAndMixedSizesAreRefused()
    {
        using var gray = torch.zeros(1, 1, 4, 4);
        Assert.Throws<ArgumentException>(() => SignedImageTensors.ToBytesHwc(gray));
        Assert.Throws<ArgumentException>(() => SignedImageTensors.FromRgbImages([new RgbImage(2, 2), new RgbImage(2, 3)]));
        Assert.Throws<ArgumentException>(() => SignedImageTensors.FromRgbImages([]));
    }
}
