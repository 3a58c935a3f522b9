"""Exports openai/CLIP's own towers (model.py, random weights at the ViT-B/32 and RN50 shapes) with PyTorch's ONNX
exporter, for `SharpClip.Bench onnx-profile --reference DIR`: issue 14's bar is ONNX Runtime on this graph, and with these
files it is measured on the same machine, alternated with SharpClip's graph, instead of quoted.

Usage: /usr/bin/python3 export_openai_clip_onnx.py CLIP_CHECKOUT OUT_DIR
  CLIP_CHECKOUT: a checkout of github.com/openai/CLIP (e.g. `git --git-dir=/work/.mirror/openai+CLIP/repo archive HEAD | tar -x`)
Needs PyTorch (Debian's python3-torch 1.13 works; the `onnx` package is not needed). Opset 14, dynamic batch; the text
graph takes all 77 positions, as openai's encode_text computes them.
"""
import os
import sys

import torch

clip_checkout, out_dir = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(clip_checkout, "clip"))
import model as openai_model  # noqa: E402  (clip/model.py alone: clip/__init__ needs ftfy and regex)


class Tower(torch.nn.Module):
    def __init__(self, encode):
        super().__init__()
        self.encode = encode

    def forward(self, x):
        return self.encode(x)


def export(clip, image_name, text_name=None):
    # Debian's torch 1.13 traces parameters that require grad as constants and refuses them, no_grad or not.
    clip.requires_grad_(False)
    with torch.no_grad():
        torch.onnx.export(Tower(clip.encode_image), torch.randn(2, 3, 224, 224), os.path.join(out_dir, image_name),
                          input_names=["pixel_values"], output_names=["image_embeds"],
                          dynamic_axes={"pixel_values": {0: "batch"}}, opset_version=14)
        if text_name:
            torch.onnx.export(Tower(clip.encode_text), torch.randint(1, 49406, (2, 77)), os.path.join(out_dir, text_name),
                              input_names=["input_ids"], output_names=["text_embeds"],
                              dynamic_axes={"input_ids": {0: "batch"}}, opset_version=14)


torch.manual_seed(0)
os.makedirs(out_dir, exist_ok=True)
# CLIP(embed_dim, image_resolution, vision_layers, vision_width, vision_patch_size, context_length, vocab_size,
#      transformer_width, transformer_heads, transformer_layers), as build_model reads them off the released checkpoints
export(openai_model.CLIP(512, 224, 12, 768, 32, 77, 49408, 512, 8, 12).eval(), "openai_vit_image.onnx", "openai_vit_text.onnx")
export(openai_model.CLIP(1024, 224, (3, 4, 6, 3), 64, None, 77, 49408, 512, 8, 12).eval(), "openai_rn50_image.onnx")
print("wrote", out_dir)
