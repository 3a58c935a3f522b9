#!/usr/bin/env python3
"""Transcribes the CLIP paper's zero-shot prompt sets into SharpClip's embedded data file.

Source: a checkout of openai/CLIP (MIT licence) -- data/prompts.md (26 datasets of the paper's Table 9) and
notebooks/Prompt_Engineering_for_ImageNet.ipynb (ImageNet's 1000 class names and 80 templates). Each set is written
under a short name that `PromptTemplates.Resolve` accepts (`imagenet`, `cifar10`, ...), with the paper's dataset name,
its classes (a list where the paper gives several names for one class) and its templates, in the paper's order.

    python3 tests/tools/make_paper_prompts.py /path/to/openai-CLIP [COMMIT] > src/SharpClip/ZeroShot/PaperPrompts.json

COMMIT names the source's commit when the folder is an export rather than a git checkout.

Standard library only; the Python blocks of the sources are read with ast.literal_eval, never executed.
"""
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

# Paper dataset name -> the short name users type; the order is the file's order (ImageNet first).
SHORT_NAMES = {
    "ImageNet": "imagenet",
    "Birdsnap": "birdsnap",
    "CIFAR10": "cifar10",
    "CIFAR100": "cifar100",
    "CLEVRCounts": "clevr-counts",
    "Caltech101": "caltech101",
    "Country211": "country211",
    "DescribableTextures": "dtd",
    "EuroSAT": "eurosat",
    "FGVCAircraft": "fgvc-aircraft",
    "FacialEmotionRecognition2013": "fer2013",
    "Flowers102": "flowers102",
    "Food101": "food101",
    "GTSRB": "gtsrb",
    "HatefulMemes": "hateful-memes",
    "KITTI": "kitti",
    "Kinetics700": "kinetics700",
    "MNIST": "mnist",
    "OxfordPets": "oxford-pets",
    "PascalVOC2007": "voc2007",
    "PatchCamelyon": "pcam",
    "RESISC45": "resisc45",
    "SST2": "sst2",
    "STL10": "stl10",
    "SUN397": "sun397",
    "StanfordCars": "stanford-cars",
    "UCF101": "ucf101",
}


def assignments(code):
    """The list literals assigned at the top level of a Python snippet: {name: value}."""
    out = {}
    try:
        tree = ast.parse(code)
    except SyntaxError:  # notebook cells with shell escapes (! pip install ...)
        return out
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return out


def from_prompts_md(text):
    sets = {}
    for match in re.finditer(r"^## (\S+)\s*\n+```(?:bash|python)?\n(.*?)^```", text, re.S | re.M):
        values = assignments(match.group(2))
        sets[match.group(1)] = (values["classes"], values["templates"])
    return sets


def from_notebook(text):
    values = {}
    for cell in json.loads(text)["cells"]:
        if cell["cell_type"] == "code":
            values.update(assignments("".join(cell["source"])))
    return values["imagenet_classes"], values["imagenet_templates"]


def main():
    root = Path(sys.argv[1])
    sets = from_prompts_md((root / "data" / "prompts.md").read_text(encoding="utf-8"))
    sets["ImageNet"] = from_notebook((root / "notebooks" / "Prompt_Engineering_for_ImageNet.ipynb").read_text(encoding="utf-8"))
    missing = set(SHORT_NAMES) ^ set(sets)
    if missing:
        sys.exit(f"datasets not matched between the sources and SHORT_NAMES: {sorted(missing)}")
    commit = sys.argv[2] if len(sys.argv) > 2 else None
    try:
        commit = commit or subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    doc = {
        "about": "The CLIP paper's zero-shot prompt sets (Radford et al. 2021, Table 9 and the ImageNet prompt "
                 "ensemble), transcribed from openai/CLIP (MIT licence) data/prompts.md and "
                 "notebooks/Prompt_Engineering_for_ImageNet.ipynb by tests/tools/make_paper_prompts.py.",
        "source_commit": commit,
        "sets": [
            {"name": short, "dataset": dataset, "templates": sets[dataset][1], "classes": sets[dataset][0]}
            for dataset, short in SHORT_NAMES.items()
        ],
    }
    for s in doc["sets"]:
        assert s["templates"] and all("{}" in t for t in s["templates"]), s["dataset"]
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
