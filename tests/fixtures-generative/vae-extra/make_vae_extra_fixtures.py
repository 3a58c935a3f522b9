#!/usr/bin/python3
"""Extra KL-autoencoder fixtures for SharpClip, made by CompVis/stable-diffusion's own code.

The shared generative fixtures hold one SD-shaped autoencoder (no attention outside the mid blocks, square images,
z_channels = embed_dim = 4, float32 storage). This script adds what they skip, each through the unmodified
reference classes `Encoder`, `Decoder` (ldm/modules/diffusionmodules/model.py), `DiagonalGaussianDistribution`
(ldm/modules/distributions/distributions.py) and the `AutoencoderKL` arithmetic (ldm/models/autoencoder.py,
`LatentDiffusion.get_first_stage_encoding` / `decode_first_stage`): attention blocks on resolution levels
(`attn_resolutions`), non-square images, z_channels != embed_dim, odd channel counts, another scale factor and
float16 storage.

Usage (Debian 12, python3-torch, python3-numpy; einops is not needed and is stubbed):
    /usr/bin/python3 make_vae_extra_fixtures.py /path/to/CompVis/stable-diffusion [out_dir]

Writes manifest.json, <id>.safetensors (the first_stage_model.* tensors of a single-file checkpoint) and
<id>.outputs.safetensors. The manifest's `autoencoders` records use the field names of the shared manifest's
`stable_diffusion` records (weights, outputs, key_prefixes.vae, config.vae, config.latent_diffusion.scale_factor,
param_count.vae, cases of kind vae_encode / vae_decode). Deterministic: two runs give identical files.
"""
import json
import os
import struct
import subprocess
import sys
import types

import numpy as np
import torch

VARIANTS = [
    # attention after every block of level 1, 2 levels (factor 2), 2 blocks, z 3 != embed 2, image 24x16 (h != w),
    # float16 storage, SDXL's scale factor
    dict(id="vae_attn1_f2_fp16", seed=3101, scale_factor=0.13025, dtype="float16", image_hw=[24, 16], batch=2,
         ddconfig=dict(double_z=True, z_channels=3, resolution=16, in_channels=3, out_ch=3, ch=32, ch_mult=[1, 1],
                       num_res_blocks=2, attn_resolutions=[8], dropout=0.0), embed_dim=2),
    # 3 levels (factor 4) widening then narrowing (nin_shortcuts both ways), attention on levels 0 and 2, one block,
    # image 20x12 -> latent 5x3, bfloat16 storage
    dict(id="vae_attn02_f4_bf16", seed=3201, scale_factor=0.18215, dtype="bfloat16", image_hw=[20, 12], batch=1,
         ddconfig=dict(double_z=True, z_channels=4, resolution=32, in_channels=3, out_ch=3, ch=32, ch_mult=[1, 2, 1],
                       num_res_blocks=1, attn_resolutions=[32, 8], dropout=0.0), embed_dim=4),
]


def import_reference(checkout):
    sys.modules.setdefault("einops", types.SimpleNamespace(rearrange=None, repeat=None))  # unused by these classes
    sys.path.insert(0, checkout)
    from ldm.modules.diffusionmodules.model import Encoder, Decoder
    from ldm.modules.distributions.distributions import DiagonalGaussianDistribution
    return Encoder, Decoder, DiagonalGaussianDistribution


def write_safetensors(path, tensors, metadata=None):
    header, offset, blobs = {}, 0, []
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()  # numpy has no bfloat16
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def main():
    checkout = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
    Encoder, Decoder, DiagonalGaussianDistribution = import_reference(checkout)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    commit = subprocess.run(["git", "-C", checkout, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip() \
        if os.path.isdir(os.path.join(checkout, ".git")) else os.environ.get("SD_COMMIT", "unknown")
    records = []
    for v in VARIANTS:
        torch.manual_seed(v["seed"])
        dd, embed_dim = v["ddconfig"], v["embed_dim"]
        model = torch.nn.Module()
        model.encoder = Encoder(**dd)
        model.decoder = Decoder(**dd)
        model.quant_conv = torch.nn.Conv2d(2 * dd["z_channels"], 2 * embed_dim, 1)       # as AutoencoderKL.__init__
        model.post_quant_conv = torch.nn.Conv2d(embed_dim, dd["z_channels"], 1)
        with torch.no_grad():  # perturb every tensor, so a swapped or misnamed one changes the outputs
            for name, p in model.named_parameters():
                if name.endswith("bias"):
                    p.copy_(0.02 * torch.randn_like(p))
                elif p.dim() == 1:
                    p.copy_(1 + 0.1 * torch.randn_like(p))
        storage = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}[v["dtype"]]
        state = {k: t.detach().to(storage) for k, t in model.state_dict().items()}
        with torch.no_grad():  # compute in float32 from exactly the stored values
            for k, t in model.state_dict().items():
                t.copy_(state[k].float())
        model.eval()
        sf = v["scale_factor"]
        h, w = v["image_hw"]
        f = 2 ** (len(dd["ch_mult"]) - 1)
        b = v["batch"]
        g = torch.Generator().manual_seed(v["seed"] + 1)
        image = (torch.rand(b, 3, h, w, generator=g) * 2 - 1)
        image = image + 0.3 * torch.sin(torch.arange(w).float() / 2)[None, None, None, :]  # some structure, partly beyond [-1, 1]
        latent = torch.randn(b, embed_dim, h // f, w // f, generator=g)
        with torch.no_grad():
            moments = model.quant_conv(model.encoder(image))                              # AutoencoderKL.encode
            posterior = DiagonalGaussianDistribution(moments)
            torch.manual_seed(v["seed"] + 2)
            noise = torch.randn(posterior.mean.shape)
            torch.manual_seed(v["seed"] + 2)
            sample = posterior.sample()
            assert torch.equal(sample, posterior.mean + posterior.std * noise)
            latent_sample_scaled = sf * sample                                             # get_first_stage_encoding
            latent_mode_scaled = sf * posterior.mode() if hasattr(posterior, "mode") else sf * posterior.mean
            z = 1. / sf * latent                                                           # decode_first_stage
            decoded = model.decoder(model.post_quant_conv(z))                              # AutoencoderKL.decode
        vid = v["id"]
        outputs = {
            "vae.image": image, "vae.moments": moments, "vae.mean": posterior.mean, "vae.logvar": posterior.logvar,
            "vae.std": posterior.std, "vae.latent_mode_scaled": latent_mode_scaled, "vae.sample_noise": noise,
            "vae.latent_sample_scaled": latent_sample_scaled, "vae.latent": latent, "vae.decoded": decoded,
        }
        write_safetensors(os.path.join(out, f"{vid}.safetensors"), {"first_stage_model." + k: t for k, t in state.items()},
                          {"format": "pt"})
        write_safetensors(os.path.join(out, f"{vid}.outputs.safetensors"), {k: t.contiguous() for k, t in outputs.items()})
        records.append({
            "id": vid,
            "weights": f"{vid}.safetensors",
            "weights_dtype": v["dtype"],
            "outputs": f"{vid}.outputs.safetensors",
            "seed": v["seed"],
            "key_prefixes": {"vae": "first_stage_model."},
            "param_count": {"vae": sum(p.numel() for p in model.parameters())},
            "config": {
                "latent_diffusion": {"scale_factor": sf},
                "vae": {"embed_dim": embed_dim, "ddconfig": dd, "downsample_factor": f},
                "latent_hw": [h // f, w // f], "image_hw": [h, w],
            },
            "cases": [
                {"id": "vae_encode", "kind": "vae_encode", "tensors": {
                    "image": "vae.image", "moments": "vae.moments", "mean": "vae.mean", "logvar": "vae.logvar",
                    "std": "vae.std", "latent_mode_scaled": "vae.latent_mode_scaled", "sample_noise": "vae.sample_noise",
                    "latent_sample_scaled": "vae.latent_sample_scaled"}},
                {"id": "vae_decode", "kind": "vae_decode", "tensors": {"latent": "vae.latent", "image": "vae.decoded"}},
            ],
        })
    manifest = {
        "schema_version": 1,
        "generator": "tests/fixtures-generative/vae-extra/make_vae_extra_fixtures.py",
        "reference": {"sources": {"CompVis/stable-diffusion": commit},
                      "versions": {"torch": torch.__version__, "numpy": np.__version__, "python": sys.version.split()[0]},
                      "compute": {"device": "cpu", "dtype": "float32", "torch_threads": 1, "deterministic_algorithms": True}},
        "autoencoders": records,
    }
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
