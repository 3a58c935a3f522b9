namespace SharpClip.Search;

/// <summary>
/// A query prepared for the two-stage scan: its int16 codes (q̂ = Scale·codes), its float values for exact rescoring,
/// and the coefficients of the per-row error bound.
/// <para>Why the bound holds. Let S_i be the exact score (<see cref="ExactDot"/>) and a_i = s_i·t·I_i the
/// first-stage estimate, with I_i the integer dot product of the codes (exact). With x̂ = s·X̂ and q̂ = t·Q̂:
/// <c>q·x − q̂·x̂ = q·(x − x̂) + (q − q̂)·x̂</c>, so by Cauchy–Schwarz |q·x − q̂·x̂| ≤ ‖q‖·r + ‖q−q̂‖·(n + r), where
/// r ≥ ‖x − x̂‖ and n ≥ ‖x‖ are the row's stored norms (‖x̂‖ ≤ n + r). Float32 summation in order makes
/// |S − q·x| ≤ γ_D·Σ|q_j x_j| ≤ γ_D·‖q‖·n with γ_D = D·u/(1 − D·u), u = 2^-24. Hence
/// |S_i − a_i| ≤ E_i = A·r_i + B·n_i with A = ‖q‖ + ‖q−q̂‖ and B = γ_D·‖q‖ + ‖q−q̂‖. Computing a_i and a_i ± E_i in
/// double adds relative errors of a few 2^-53 of ‖q̂‖·‖x̂‖; the ε terms below cover them with a wide margin, and
/// <see cref="Tiny"/> covers float32 underflow. So a_i − E_i ≤ S_i ≤ a_i + E_i for every row, whatever the data.</para>
/// </summary>
internal sealed unsafe class QueryCode
{
    const double Epsilon = 1.0 / (1L << 40);

    /// <summary>Absolute slack for subnormal products (each of 2D float ops can lose ≤ 2^-150; far below 1e-30).</summary>
    public const double Tiny = 1e-30;

    public QueryCode(ReadOnlySpan<float> query, int width)
    {
        int d = query.Length;
        Values = new AlignedBuffer<float>(width);
        Codes = new AlignedBuffer<short>(width);
        query.CopyTo(Values.Slice(0, d));
        Values.Slice(d, width - d).Clear();
        var codes = Codes.Slice(0, width);
        codes.Clear();

        // the integer total is at most 127·max·D, which must fit in int32
        int max = (int)Math.Min(short.MaxValue, int.MaxValue / (127L * Math.Max(1, d)));
        float maxAbs = 0;
        foreach (float v in query) maxAbs = Math.Max(maxAbs, Math.Abs(v));
        double norm2 = 0, err2 = 0;
        if (maxAbs > 0)
        {
            Scale = Math.Max(maxAbs / max, float.Epsilon);
            for (int j = 0; j < d; j++)
            {
                int c = Math.Clamp((int)Math.Round(query[j] / (double)Scale), -max, max);
                codes[j] = (short)c;
                double e = query[j] - (double)Scale * c;   // exact: Scale·c has ≤ 24 + 15 bits
                err2 += e * e;
                norm2 += (double)query[j] * query[j];
            }
        }
        Norm = RowQuantizer.RoundUp(norm2, d);
        Error = RowQuantizer.RoundUp(err2, d);
        double u = Math.ScaleB(1, -24), gamma = d * u / (1 - d * u);
        double qHat = Norm + Error;                                   // ≥ ‖q̂‖
        A = (Norm + Error + Epsilon * qHat) * (1 + Epsilon);
        B = (gamma * Norm + Error + Epsilon * qHat) * (1 + Epsilon);
    }

    /// <summary>The query padded with zeros to the code width.</summary>
    public AlignedBuffer<float> Values { get; }

    /// <summary>int16 codes, zero-padded.</summary>
    public AlignedBuffer<short> Codes { get; }

    /// <summary>t: q̂ = t·codes (a float, so s_i·t is exact in double).</summary>
    public float Scale { get; }

    /// <summary>≥ ‖q‖.</summary>
    public float Norm { get; }

    /// <summary>≥ ‖q − q̂‖.</summary>
    public float Error { get; }

    /// <summary>Coefficient of the row's quantisation error r_i in E_i.</summary>
    public double A { get; }

    /// <summary>Coefficient of the row's norm n_i in E_i.</summary>
    public double B { get; }
}
