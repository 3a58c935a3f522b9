#!/usr/bin/python3
"""Writes the small PyTorch files the checkpoint tests read (tests never run Python).

Regenerate (Debian 12: `apt-get install -y python3-torch`, torch 1.13.1; use the system interpreter):

    /usr/bin/python3 tests/SharpClip.Tests/Checkpoints/data/make_pt_fixtures.py

Every `*.pt`/`*.bin` file written by real PyTorch is paired with an `*.expected.safetensors` holding the tensors the
reader must produce (contiguous, same dtype, OpenAI names where a name mapping applies). The safetensors writer
below is a few lines of this script, independent of SharpClip's. Output is deterministic except zip timestamps.
"""
import collections
import json
import os
import pickle
import struct

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(1234)

ST_DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL",
}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def out(name):
    return os.path.join(HERE, name)


# 1. A plain state dict with every dtype and the awkward layouts: non-contiguous, offset views, shared storages,
#    a broadcast (stride 0) view, a 0-dim scalar, an empty tensor, an nn.Parameter (pickled via _rebuild_parameter).
def mixed_state_dict():
    sd = nn.Sequential(collections.OrderedDict(linear=nn.Linear(4, 3))).state_dict()  # carries _metadata (BUILD)
    base = torch.randn(3, 5)
    big = torch.randn(20)
    grid = torch.randn(4, 6)
    shared = torch.arange(12, dtype=torch.float32) * 0.5
    sd["half"] = torch.randn(5).half()
    sd["bf16"] = torch.randn(2, 3).bfloat16()
    sd["double"] = torch.randn(2, dtype=torch.float64)
    sd["long"] = torch.tensor([1, -2, 3_000_000_000_000, -(2 ** 62)], dtype=torch.int64)
    sd["int32"] = torch.tensor([7, -8, 9], dtype=torch.int32)
    sd["int16"] = torch.tensor([-300, 300], dtype=torch.int16)
    sd["int8"] = torch.tensor([-5, 6], dtype=torch.int8)
    sd["uint8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["transposed"] = base.t()                 # stride (1, 5)
    sd["offset_view"] = big[4:10]               # storage offset 4
    sd["offset_2d"] = grid[1:3, 2:5]            # offset 8, stride (6, 1)
    sd["shared_a"] = shared.view(3, 4)          # same storage ...
    sd["shared_b"] = shared[4:8]                # ... read twice
    sd["expanded"] = torch.randn(3).expand(2, 3)  # stride (0, 1)
    sd["scalar"] = torch.tensor(2.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = nn.Parameter(torch.randn(2, 2))
    return sd


sd = mixed_state_dict()
torch.save(sd, out("mixed_state_dict.pt"))
torch.save(sd, out("mixed_state_dict.legacy.pt"), _use_new_zipfile_serialization=False)
write_safetensors(out("mixed_state_dict.expected.safetensors"), dict(sd))

# 2. An open_clip training checkpoint: the weights wrapped with epoch/name/optimizer, DDP "module." prefixes,
#    CustomTextCLIP's "text." tower with a bias-free Linear text projection ([D, W], stored transposed).
W, D = 6, 4
weights = collections.OrderedDict()
weights["module.visual.proj"] = torch.randn(W, D)
weights["module.logit_scale"] = torch.tensor(4.6052)
weights["module.text.token_embedding.weight"] = torch.randn(10, W)
weights["module.text.ln_final.weight"] = torch.randn(W)
weights["module.text.text_projection.weight"] = torch.randn(D, W)
weights["module.text.attn_mask"] = torch.full((5, 5), float("-inf")).triu(1)
optimizer = {"state": {0: {"step": torch.tensor(10.0), "exp_avg": torch.randn(W, D)}},
             "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.98), "eps": 1e-6, "weight_decay": 0.2, "params": [0]}]}
torch.save({"epoch": 3, "name": "tiny-run", "state_dict": weights, "optimizer": optimizer}, out("open_clip_wrapped.pt"))
write_safetensors(out("open_clip_wrapped.expected.safetensors"), {
    "visual.proj": weights["module.visual.proj"],
    "logit_scale": weights["module.logit_scale"],
    "token_embedding.weight": weights["module.text.token_embedding.weight"],
    "ln_final.weight": weights["module.text.ln_final.weight"],
    "text_projection": weights["module.text.text_projection.weight"].t(),
})


# 3. TorchScript archives. OpenAI's released CLIP .pt files are torch.jit archives (traced, saved by torch 1.7): the
#    same layout as these (data.pkl of __torch__.* module objects, data/ storages, code/, constants.pkl).
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(4)
        self.attn = nn.MultiheadAttention(4, 2)
        self.bn = nn.BatchNorm1d(4)
        self.attn_mask = torch.zeros(2, 2)  # a plain tensor attribute: not in state_dict()

    def forward(self, x):
        return self.attn(self.ln_1(x), x, x, need_weights=False, attn_mask=self.attn_mask)[0]


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Parameter(torch.randn(4, 3))
        self.register_buffer("input_resolution", torch.tensor(32))
        self.blocks = nn.Sequential(Block(), Block())

    def forward(self, x):
        return self.blocks(x) @ self.proj


tiny = Tiny().eval()
with torch.no_grad():
    for m in tiny.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.normal_()
            m.running_var.uniform_(0.5, 2.0)
            m.num_batches_tracked.fill_(7)
        if isinstance(m, nn.LayerNorm):
            m.bias.normal_()
traced = torch.jit.trace(tiny, torch.randn(2, 2, 4))
traced.save(out("torchscript_traced.pt"))
write_safetensors(out("torchscript_traced.expected.safetensors"), dict(traced.state_dict()))


class Scripted(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.register_buffer("steps", torch.tensor([1, 2, 3]))
        self.mask = torch.ones(3)  # plain attribute: scripted modules keep it, state_dict() does not

    def forward(self, x):
        return self.fc(x * self.mask)


scripted = torch.jit.script(Scripted())
scripted.save(out("torchscript_scripted.pt"))
write_safetensors(out("torchscript_scripted.expected.safetensors"), dict(scripted.state_dict()))


# 4. A tiny Hugging Face CLIPModel folder (pytorch_model.bin). The OpenAI-named tensors are random; HF's are derived
#    the way transformers' convert_clip_original_pytorch_to_hf.py does (in_proj chunked into q, k, v; projections
#    transposed). The expected file holds the OpenAI names.
def tiny_openai(vision_width=16, text_width=16, layers=1, patch=4, image=8, ctx=7, vocab=11, embed=8):
    sd = collections.OrderedDict()
    grid = image // patch

    def block(prefix, w):
        sd[f"{prefix}.attn.in_proj_weight"] = torch.randn(3 * w, w)
        sd[f"{prefix}.attn.in_proj_bias"] = torch.randn(3 * w)
        sd[f"{prefix}.attn.out_proj.weight"] = torch.randn(w, w)
        sd[f"{prefix}.attn.out_proj.bias"] = torch.randn(w)
        sd[f"{prefix}.ln_1.weight"] = torch.randn(w)
        sd[f"{prefix}.ln_1.bias"] = torch.randn(w)
        sd[f"{prefix}.mlp.c_fc.weight"] = torch.randn(4 * w, w)
        sd[f"{prefix}.mlp.c_fc.bias"] = torch.randn(4 * w)
        sd[f"{prefix}.mlp.c_proj.weight"] = torch.randn(w, 4 * w)
        sd[f"{prefix}.mlp.c_proj.bias"] = torch.randn(w)
        sd[f"{prefix}.ln_2.weight"] = torch.randn(w)
        sd[f"{prefix}.ln_2.bias"] = torch.randn(w)

    sd["visual.conv1.weight"] = torch.randn(vision_width, 3, patch, patch)
    sd["visual.class_embedding"] = torch.randn(vision_width)
    sd["visual.positional_embedding"] = torch.randn(grid * grid + 1, vision_width)
    sd["visual.ln_pre.weight"] = torch.randn(vision_width)
    sd["visual.ln_pre.bias"] = torch.randn(vision_width)
    for i in range(layers):
        block(f"visual.transformer.resblocks.{i}", vision_width)
    sd["visual.ln_post.weight"] = torch.randn(vision_width)
    sd["visual.ln_post.bias"] = torch.randn(vision_width)
    sd["visual.proj"] = torch.randn(vision_width, embed)
    sd["token_embedding.weight"] = torch.randn(vocab, text_width)
    sd["positional_embedding"] = torch.randn(ctx, text_width)
    for i in range(layers):
        block(f"transformer.resblocks.{i}", text_width)
    sd["ln_final.weight"] = torch.randn(text_width)
    sd["ln_final.bias"] = torch.randn(text_width)
    sd["text_projection"] = torch.randn(text_width, embed)
    sd["logit_scale"] = torch.tensor(3.9)
    return sd


def to_hf(sd):
    hf = collections.OrderedDict()
    renames = {
        "visual.conv1.weight": "vision_model.embeddings.patch_embedding.weight",
        "visual.class_embedding": "vision_model.embeddings.class_embedding",
        "visual.positional_embedding": "vision_model.embeddings.position_embedding.weight",
        "visual.ln_pre.weight": "vision_model.pre_layrnorm.weight", "visual.ln_pre.bias": "vision_model.pre_layrnorm.bias",
        "visual.ln_post.weight": "vision_model.post_layernorm.weight", "visual.ln_post.bias": "vision_model.post_layernorm.bias",
        "token_embedding.weight": "text_model.embeddings.token_embedding.weight",
        "positional_embedding": "text_model.embeddings.position_embedding.weight",
        "ln_final.weight": "text_model.final_layer_norm.weight", "ln_final.bias": "text_model.final_layer_norm.bias",
        "logit_scale": "logit_scale",
    }
    parts = {"attn.out_proj": "self_attn.out_proj", "ln_1": "layer_norm1", "ln_2": "layer_norm2",
             "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"}
    for k, v in sd.items():
        if k in renames:
            hf[renames[k]] = v
        elif k == "visual.proj":
            hf["visual_projection.weight"] = v.t()
        elif k == "text_projection":
            hf["text_projection.weight"] = v.t()
        else:
            tower, rest = ("vision_model", k[len("visual.transformer.resblocks."):]) if k.startswith("visual.") \
                else ("text_model", k[len("transformer.resblocks."):])
            layer, part = rest.split(".", 1)
            prefix = f"{tower}.encoder.layers.{layer}."
            if part.startswith("attn.in_proj_"):
                kind = part[len("attn.in_proj_"):]
                q, kk, vv = v.chunk(3, dim=0)
                hf[prefix + f"self_attn.q_proj.{kind}"] = q
                hf[prefix + f"self_attn.k_proj.{kind}"] = kk
                hf[prefix + f"self_attn.v_proj.{kind}"] = vv
            else:
                mod, leaf = part.rsplit(".", 1)
                hf[prefix + parts[mod] + "." + leaf] = v
    return hf


openai_sd = tiny_openai()
hf_dir = out("hf_tiny")
os.makedirs(hf_dir, exist_ok=True)
hf_sd = to_hf(openai_sd)
hf_sd["text_model.embeddings.position_ids"] = torch.arange(7).unsqueeze(0)
hf_sd["vision_model.embeddings.position_ids"] = torch.arange(5).unsqueeze(0)
torch.save(hf_sd, os.path.join(hf_dir, "pytorch_model.bin"))
with open(os.path.join(hf_dir, "config.json"), "w") as f:
    json.dump({
        "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 8, "logit_scale_init_value": 2.6592,
        "text_config": {"hidden_size": 16, "intermediate_size": 64, "num_attention_heads": 2, "num_hidden_layers": 1,
                        "max_position_embeddings": 7, "vocab_size": 11, "hidden_act": "gelu", "layer_norm_eps": 1e-05},
        "vision_config": {"hidden_size": 16, "intermediate_size": 64, "num_attention_heads": 2, "num_hidden_layers": 1,
                          "image_size": 8, "patch_size": 4, "hidden_act": "gelu", "layer_norm_eps": 1e-05},
        "torch_dtype": "float32"}, f, indent=2)
with open(os.path.join(hf_dir, "preprocessor_config.json"), "w") as f:
    json.dump({"crop_size": 8, "do_center_crop": True, "do_normalize": True, "do_resize": True,
               "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": [0.5, 0.5, 0.5],
               "image_std": [0.25, 0.25, 0.25], "resample": 3, "size": 10}, f, indent=2)
with open(os.path.join(hf_dir, "vocab.json"), "w") as f:
    json.dump({"a</w>": 0, "b</w>": 1, "<|startoftext|>": 9, "<|endoftext|>": 10}, f)
with open(os.path.join(hf_dir, "merges.txt"), "w") as f:
    f.write("#version: 0.2\na b</w>\n")
write_safetensors(out("hf_tiny.expected.safetensors"), openai_sd)


# 5. Malicious pickles: unpickling any of these in Python would run a shell command. The reader must refuse them
#    without running anything (the command would create a file the tests look for).
class RunsCommand:
    def __reduce__(self):
        return (os.system, ("touch sharpclip_pwned_marker",))


class Evals:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch sharpclip_pwned_marker')",))


torch.save({"weight": torch.zeros(2), "payload": RunsCommand()}, out("malicious_os_system.pt"))
torch.save({"weight": torch.zeros(2), "payload": RunsCommand()}, out("malicious_os_system.legacy.pt"),
           _use_new_zipfile_serialization=False)
with open(out("malicious_eval_protocol4.pkl"), "wb") as f:
    pickle.dump({"payload": Evals()}, f, protocol=4)  # STACK_GLOBAL + FRAME + MEMOIZE


# 6. Plain data in every pickle protocol, with the expected value as JSON (bytes as int lists, tuples and sets as
#    lists, ints beyond 53 bits as decimal strings) — covers the opcodes state dicts rarely use.
plain = {
    "int": 1, "neg": -5, "i16": 40000, "i32": -2 ** 31, "big": 2 ** 70, "bigneg": -(2 ** 65), "float": 1.5, "negfloat": -0.1,
    "str": "h\u00e9llo \u2603 \U0001F600 back\\slash\nnewline", "empty": "", "bytes": b"\x00\xffab",
    "list": [1, 2, [3, None]], "tuple": (1, "a"), "tuple1": (7,), "tuple3": (1, 2, 3), "long_tuple": (1, 2, 3, 4, 5),
    "none": None, "true": True, "false": False, "nested": {"k": {"x": 1}, "int_key": {3: "three"}},
    "set": {5}, "frozenset": frozenset({6}), "shared": [[1, 2]] * 2,
}


def to_json(v):
    if isinstance(v, bool) or v is None or isinstance(v, (float, str)):
        return v
    if isinstance(v, int):
        return v if abs(v) < 2 ** 53 else str(v)
    if isinstance(v, bytes):
        return list(v)
    if isinstance(v, dict):
        return {str(k): to_json(x) for k, x in v.items()}
    if isinstance(v, (set, frozenset)):
        return sorted(to_json(x) for x in v)
    return [to_json(x) for x in v]


for protocol in range(6):
    with open(out(f"plain_data.p{protocol}.pkl"), "wb") as f:
        pickle.dump(plain, f, protocol=protocol)
with open(out("plain_data.expected.json"), "w") as f:
    json.dump(to_json(plain), f, indent=1)

# 7. A torch.save archive whose storage for "w" was cut short after saving: the pickle says 8 floats, the archive
#    holds 3. The reader must name the file and the tensor.
import zipfile
torch.save({"ok": torch.ones(2), "w": torch.randn(8)}, out("lying_storage.pt"))
with zipfile.ZipFile(out("lying_storage.pt")) as z:
    entries = [(i, z.read(i.filename)) for i in z.infolist()]
storage_of_w = "lying_storage/data/1"
with zipfile.ZipFile(out("lying_storage.pt"), "w", compression=zipfile.ZIP_STORED) as z:
    for info, data in entries:
        z.writestr(info, data[:12] if info.filename == storage_of_w else data)

total = sum(os.path.getsize(os.path.join(dp, n)) for dp, _, ns in os.walk(HERE) for n in ns)
print(f"fixtures written to {HERE}: {total} bytes")
