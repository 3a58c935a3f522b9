#!/usr/bin/python3
"""Reference data for SharpClip's Stable Diffusion formats (diffusers folders, SD 2.x single files, v-prediction).

Everything here comes from the reference code, never from SharpClip's C# mapping:

* diffusers naming: `convert_ldm_unet_checkpoint`, `convert_ldm_vae_checkpoint`, `create_unet_diffusers_config`,
  `create_vae_diffusers_config` and their helpers, taken unchanged (by `ast`, so diffusers' package imports of
  transformers etc. are not needed) from huggingface/diffusers' src/diffusers/pipelines/stable_diffusion/convert_from_ckpt.py,
  run on the shared tiny SD v1 checkpoint. Which ldm tensor each diffusers key holds is found by its values (the random
  weights make every tensor distinct), so the map records exactly what the converter did, reshapes included.
* SD 2.x text keys: `convert_text_enc_state_dict_v20` and its tables, unchanged from diffusers'
  scripts/convert_diffusers_to_original_stable_diffusion.py (HF CLIPTextModel -> OpenCLIP names, q/k/v concatenated).
  Which HF tensors each OpenCLIP key concatenates is found by running it on id tensors.
* SD 2.x text states: Stability-AI/stablediffusion's `FrozenOpenCLIPEmbedder.encode_with_transformer` and
  `text_transformer_forward` (unchanged, by `ast`) over the OpenCLIP text tower of the SD 2 era: openai/CLIP's
  `Transformer` (open_clip forked it) with open_clip's `act_layer=nn.GELU` and its causal `attn_mask`, layer "penultimate"
  (SD 2.x) and "last". Token ids are the shared fixture's `input_ids_pad_zero` (open_clip.tokenize pads with 0).
* v-prediction: Stability-AI/stablediffusion's `DDIMSampler` (ldm/models/diffusion/ddim.py, unchanged) with
  `parameterization = "v"` and the LatentDiffusion methods it calls (`register_schedule`, `predict_eps_from_z_and_v`,
  `predict_start_from_z_and_v`, unchanged from ldm/models/diffusion/ddpm.py by `ast`) around a small deterministic
  noise model (a 1x1 convolution of x, scaled by t, plus the mean context) that the C# test reproduces.
  The same run with parameterization "eps" is stored too.

The big weights are NOT copied: the C# tests build the diffusers folder and the SD 2.x file from the shared checkpoint
with the maps written here (keys.json).

Usage (Debian 12 /usr/bin/python3 with python3-torch and python3-numpy; tqdm and einops are stubbed, unused):
    /usr/bin/python3 make_sd_format_fixtures.py SHARED_GENERATIVE_DIR DIFFUSERS STABLEDIFFUSION CLIP [OUT]
where the last four are checkouts (e.g. `git --git-dir=/work/.mirror/<owner>+<name>/repo archive HEAD | tar -x`).
"""
import ast
import json
import os
import re
import struct
import sys
import types

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "F16": np.float16, "U8": np.uint8}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype=DTYPES[info["dtype"]]).reshape(info["shape"]).copy())
    return out


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    names = {torch.float32: "F32", torch.int64: "I64"}
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def functions_from(path, names, namespace, class_name=None):
    """Executes the named top-level functions (or methods of class_name) of a source file, unchanged, in namespace."""
    tree = ast.parse(open(path).read())
    body = tree.body
    if class_name:
        body = next(n for n in body if isinstance(n, ast.ClassDef) and n.name == class_name).body
    found = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.Assign)) and (getattr(node, "name", None) in names
                                                              or isinstance(node, ast.Assign) and any(getattr(t, "id", None) in names for t in node.targets)):
            found[getattr(node, "name", None) or node.targets[0].id] = node
    missing = set(names) - set(found)
    assert not missing, f"{path}: {missing} not found"
    for name in names:  # in the order given, so tables exist before the code using them
        exec(compile(ast.Module(body=[found[name]], type_ignores=[]), path, "exec"), namespace)
    return namespace


def diffusers_maps(shared, diffusers_dir, record):
    ckpt_path = os.path.join(shared, record["weights"])
    checkpoint = read_safetensors(ckpt_path)
    cfc = os.path.join(diffusers_dir, "src/diffusers/pipelines/stable_diffusion/convert_from_ckpt.py")
    ns = {"torch": torch, "re": re, "logger": types.SimpleNamespace(warning=lambda *a, **k: None, info=lambda *a, **k: None)}
    functions_from(cfc, ["shave_segments", "renew_resnet_paths", "renew_vae_resnet_paths", "renew_attention_paths",
                         "renew_vae_attention_paths", "assign_to_checkpoint", "conv_attn_to_linear",
                         "create_unet_diffusers_config", "create_vae_diffusers_config",
                         "convert_ldm_unet_checkpoint", "convert_ldm_vae_checkpoint"], ns)
    c = record["config"]
    unet_params = dict(c["unet"])
    if unet_params["num_head_channels"] == -1:
        del unet_params["num_head_channels"]
    else:
        del unet_params["num_heads"]
    original = {"model": {"params": {
        "unet_config": {"params": unet_params},
        "first_stage_config": {"params": {"embed_dim": c["vae"]["embed_dim"], "ddconfig": c["vae"]["ddconfig"]}},
    }}}
    image_size = c["image_hw"][0]
    unet_config = ns["create_unet_diffusers_config"](original, image_size=image_size)
    vae_config = ns["create_vae_diffusers_config"](original, image_size=image_size)
    unet = ns["convert_ldm_unet_checkpoint"](dict(checkpoint), unet_config)  # it pops keys
    vae = ns["convert_ldm_vae_checkpoint"](dict(checkpoint), vae_config)

    by_numel = {}
    for k, t in checkpoint.items():
        by_numel.setdefault(t.numel(), []).append(k)

    def source(t):  # the ldm tensor with these values (the random weights make every tensor distinct)
        keys = [k for k in by_numel.get(t.numel(), []) if torch.equal(checkpoint[k].flatten(), t.flatten())]
        assert len(keys) == 1, (keys, t.shape)
        return keys[0]

    def entries(converted):
        return {k: {"ldm": source(t), "shape": list(t.shape)} for k, t in sorted(converted.items())}

    text = {}
    for k in checkpoint:
        if k.startswith("cond_stage_model.transformer.") and not k.endswith("position_ids"):
            hf = k[len("cond_stage_model.transformer."):]
            text[hf] = {"ldm": k, "shape": list(checkpoint[k].shape)}
    unet_config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in unet_config.items()}
    vae_config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in vae_config.items()}
    unet_config["_class_name"] = "UNet2DConditionModel"
    vae_config["_class_name"] = "AutoencoderKL"
    vae_config["scaling_factor"] = c["latent_diffusion"]["scale_factor"]
    ld = c["latent_diffusion"]
    scheduler = {"_class_name": "DDIMScheduler", "beta_start": ld["linear_start"], "beta_end": ld["linear_end"],
                 "beta_schedule": "scaled_linear", "num_train_timesteps": ld["timesteps"], "prediction_type": "epsilon",
                 "steps_offset": 1, "set_alpha_to_one": False, "clip_sample": False}
    return {
        "unet": {"config": unet_config, "keys": entries(unet)},
        "vae": {"config": vae_config, "keys": entries(vae)},
        "text_encoder": {"config": c["text"], "keys": text},
        "scheduler": {"config": scheduler},
        "tokenizer": {"special_tokens_map": {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                                             "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}},
    }, checkpoint


def sd2_text(diffusers_dir, checkpoint):
    script = os.path.join(diffusers_dir, "scripts/convert_diffusers_to_original_stable_diffusion.py")
    ns = {"torch": torch, "re": re}
    functions_from(script, ["textenc_conversion_lst", "protected", "textenc_pattern", "code2idx", "convert_text_enc_state_dict_v20"], ns)
    hf = {k[len("cond_stage_model."):]: t for k, t in checkpoint.items()
          if k.startswith("cond_stage_model.transformer.") and not k.endswith("position_ids")}
    names = sorted(hf)
    ids = {k: torch.full((1,), float(i)) for i, k in enumerate(names)}
    converted_ids = ns["convert_text_enc_state_dict_v20"](ids)
    converted = ns["convert_text_enc_state_dict_v20"](hf)
    keys = {"cond_stage_model.model." + k: [names[int(i)] for i in v.tolist()] for k, v in sorted(converted_ids.items())}
    return keys, {k: v for k, v in converted.items()}


def sd2_states(stability_dir, clip_dir, openclip_weights, ids, width):
    import importlib.util  # clip/model.py alone: the package __init__ needs ftfy for its tokenizer, unused here
    spec = importlib.util.spec_from_file_location("clip_model", os.path.join(clip_dir, "clip", "model.py"))
    clip_model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clip_model)
    Transformer = clip_model.Transformer
    block_forward = clip_model.ResidualAttentionBlock.forward

    def open_clip_forward(self, x, attn_mask=None):  # open_clip 2.x's block takes the mask per call; openai's holds it
        self.attn_mask = attn_mask
        return block_forward(self, x)
    clip_model.ResidualAttentionBlock.forward = open_clip_forward
    ns = {"torch": torch, "checkpoint": None}
    functions_from(os.path.join(stability_dir, "ldm/modules/encoders/modules.py"), ["encode_with_transformer", "text_transformer_forward"],
                   ns, class_name="FrozenOpenCLIPEmbedder")
    layers = 1 + max(int(k.split(".")[2]) for k in openclip_weights if k.startswith("transformer.resblocks."))
    heads = width // 16 if width % 16 == 0 else 1   # OpenCLIP's towers have 64-wide heads; the tiny one gets 16-wide
    model = torch.nn.Module()
    model.token_embedding = torch.nn.Embedding(openclip_weights["token_embedding.weight"].shape[0], width)
    model.positional_embedding = torch.nn.Parameter(torch.empty(openclip_weights["positional_embedding"].shape))
    model.transformer = Transformer(width, layers, heads)
    for block in model.transformer.resblocks:
        block.mlp.gelu = torch.nn.GELU()                     # open_clip's act_layer (openai/CLIP: QuickGELU)
    model.transformer.grad_checkpointing = False
    model.ln_final = torch.nn.LayerNorm(width)
    n = openclip_weights["positional_embedding"].shape[0]
    mask = torch.empty(n, n).fill_(float("-inf")).triu_(1)  # open_clip's build_attention_mask
    model.register_buffer("attn_mask", mask, persistent=False)
    state = {k: v for k, v in openclip_weights.items() if k not in ("text_projection", "logit_scale")}
    model.load_state_dict(state, strict=True)
    model.eval()
    out = {}
    for layer, idx in (("penultimate", 1), ("last", 0)):
        embedder = types.SimpleNamespace(model=model, layer_idx=idx)
        embedder.text_transformer_forward = types.MethodType(ns["text_transformer_forward"], embedder)
        with torch.no_grad():
            out[layer] = ns["encode_with_transformer"](embedder, ids)
    return out, heads


def v_prediction(stability_dir, record, seed):
    sys.modules.setdefault("tqdm", types.SimpleNamespace(tqdm=lambda it, **k: it))
    sys.modules.setdefault("einops", types.SimpleNamespace(repeat=None, rearrange=None))
    sys.path.insert(0, stability_dir)
    from ldm.modules.diffusionmodules.util import make_beta_schedule, extract_into_tensor
    from ldm.models.diffusion.ddim import DDIMSampler
    from functools import partial
    ddpm = os.path.join(stability_dir, "ldm/models/diffusion/ddpm.py")
    ns = functions_from(ddpm, ["register_schedule", "predict_start_from_z_and_v", "predict_eps_from_z_and_v"],
                        {"torch": torch, "np": np, "partial": partial, "make_beta_schedule": make_beta_schedule,
                         "extract_into_tensor": extract_into_tensor, "exists": lambda x: x is not None}, class_name="DDPM")
    ld = record["config"]["latent_diffusion"]
    g = torch.Generator().manual_seed(seed)
    weight = torch.randn(4, 4, 1, 1, generator=g) * 0.5
    bias = torch.randn(4, generator=g)
    batch, h, w, tokens, d = 2, 6, 5, 7, 8
    x_T = torch.randn(batch, 4, h, w, generator=g)
    cond = torch.randn(batch, tokens, d, generator=g)
    uncond = torch.randn(batch, tokens, d, generator=g)

    class Model(torch.nn.Module):
        device = torch.device("cpu")

        def __init__(self, parameterization):
            super().__init__()
            self.parameterization = parameterization
            self.v_posterior = 0.
            self.register_schedule(beta_schedule="linear", timesteps=ld["timesteps"], linear_start=ld["linear_start"], linear_end=ld["linear_end"])

        def apply_model(self, x, t, c):     # the noise model the C# test reproduces
            return torch.nn.functional.conv2d(x, weight) * (t.float() / 1000)[:, None, None, None] \
                + bias[None, :, None, None] + c.mean(dim=(1, 2))[:, None, None, None]

    for name in ("register_schedule", "predict_start_from_z_and_v", "predict_eps_from_z_and_v"):
        setattr(Model, name, ns[name])

    class CpuDDIMSampler(DDIMSampler):
        def register_buffer(self, name, attr):
            setattr(self, name, attr)       # the reference moves buffers to CUDA

    out = {"v.weight": weight, "v.bias": bias, "v.x_T": x_T, "v.cond": cond, "v.uncond": uncond}
    steps, scale = 7, 5.0
    for kind in ("v", "eps"):
        model = Model(kind)
        sampler = CpuDDIMSampler(model, device=torch.device("cpu"))
        with torch.no_grad():
            samples, inter = sampler.sample(S=steps, batch_size=batch, shape=(4, h, w), conditioning=cond, verbose=False, eta=0.0,
                                            x_T=x_T.clone(), log_every_t=1, unconditional_guidance_scale=scale,
                                            unconditional_conditioning=uncond)
        out[f"{kind}.final"] = samples
        out[f"{kind}.pred_x0"] = torch.stack(inter["pred_x0"][1:])
        out[f"{kind}.latents"] = torch.stack(inter["x_inter"][1:])
        out[f"{kind}.sqrt_alphas_cumprod"] = model.sqrt_alphas_cumprod
    return out, {"steps": steps, "guidance_scale": scale, "eta": 0.0, "latent_shape": [batch, 4, h, w]}


def main():
    shared, diffusers_dir, stability_dir, clip_dir = sys.argv[1:5]
    out_dir = sys.argv[5] if len(sys.argv) > 5 else os.path.dirname(os.path.abspath(__file__))
    torch.set_num_threads(1)
    manifest = json.load(open(os.path.join(shared, "manifest.json")))
    record = manifest["stable_diffusion"][0]
    maps, checkpoint = diffusers_maps(shared, diffusers_dir, record)
    sd2_keys, openclip = sd2_text(diffusers_dir, checkpoint)
    openclip_tower = {k: v for k, v in openclip.items()}
    width = checkpoint["cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"].shape[1]
    g = torch.Generator().manual_seed(4242)
    extra = {"cond_stage_model.model.text_projection": torch.randn(width, width, generator=g), "cond_stage_model.model.logit_scale": torch.tensor(4.6052)}
    openclip_tower["text_projection"] = extra["cond_stage_model.model.text_projection"]
    openclip_tower["logit_scale"] = extra["cond_stage_model.model.logit_scale"]
    outputs = read_safetensors(os.path.join(shared, record["outputs"]))
    text_case = next(c for c in record["cases"] if c["kind"] == "text_states")
    ids = outputs[text_case["tensors"]["input_ids_pad_zero"]]
    states, heads = sd2_states(stability_dir, clip_dir, openclip_tower, ids, width)
    v_out, v_case = v_prediction(stability_dir, record, seed=777)
    tensors = {"sd2.input_ids": ids, "sd2.states_penultimate": states["penultimate"], "sd2.states_last": states["last"], **extra, **v_out}
    write_safetensors(os.path.join(out_dir, "sd_formats.outputs.safetensors"), tensors)
    json.dump({
        "source_model": record["id"],
        "generator": os.path.basename(__file__),
        "diffusers": maps,
        "sd2": {"text_keys": sd2_keys, "extra_keys": sorted(extra), "text_heads": heads, "activation": "gelu",
                "prompts": text_case["prompts"]},
        "v_prediction": v_case,
        "autoencoders": [],
    }, open(os.path.join(out_dir, "manifest.json"), "w"), indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
