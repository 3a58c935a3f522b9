"""Writes ddim_scheduler.json: what diffusers' DDIMScheduler does with the scheduler-config fields SharpClip honours
(timestep_spacing, steps_offset, set_alpha_to_one), for DiffusersDdimParityTests.

The scheduler module is run from a bare git mirror of huggingface/diffusers (only scheduling_ddim.py: the package
needs newer dependencies than Debian's python3-torch 1.13, so the four names it imports from the rest of diffusers are
small stand-ins that do nothing the scheduler's arithmetic depends on). For every spacing x offset x set_alpha_to_one
and a few step counts it records set_timesteps' timesteps; for some it also runs a whole chain with a fixed,
deterministic "model" (eps = x * (0.5 t / 1000) + 0.1) from a seeded float32 latent and records the latent and x0
prediction after the first step and the final latent. SD's scaled_linear betas (0.00085, 0.012, 1000) throughout; the
scheduler's own float32 alphas_cumprod is recorded so the test runs on the same table.

    /usr/bin/python3 tests/fixtures-generative/ddim-scheduler/make_ddim_scheduler_fixture.py \
        [--diffusers-git /work/.mirror/huggingface+diffusers/repo]
"""
import argparse
import enum
import inspect
import json
import os
import subprocess
import sys
import types

import numpy as np
import torch

SCHEDULER_PATH = "src/diffusers/schedulers/scheduling_ddim.py"


def load_ddim(git_dir):
    source = subprocess.check_output(["git", "--git-dir", git_dir, "show", f"HEAD:{SCHEDULER_PATH}"], text=True)
    commit = subprocess.check_output(["git", "--git-dir", git_dir, "rev-parse", "HEAD"], text=True).strip()

    def module(name, package=False):
        m = types.ModuleType(name)
        if package:
            m.__path__ = []
        sys.modules[name] = m
        return m

    module("diffusers", package=True)
    module("diffusers.schedulers", package=True)
    configuration = module("diffusers.configuration_utils")

    class ConfigMixin:
        pass

    def register_to_config(init):
        # diffusers keeps the constructor's arguments (defaults filled in) as self.config
        signature = inspect.signature(init)

        def wrapper(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            values = dict(bound.arguments)
            values.pop("self")
            self.config = types.SimpleNamespace(**values)
            init(self, *args, **kwargs)

        return wrapper

    configuration.ConfigMixin = ConfigMixin
    configuration.register_to_config = register_to_config
    utils = module("diffusers.utils", package=True)

    class BaseOutput:
        pass

    utils.BaseOutput = BaseOutput
    torch_utils = module("diffusers.utils.torch_utils")

    def randn_tensor(*args, **kwargs):
        raise RuntimeError("eta > 0 is not part of this fixture")

    torch_utils.randn_tensor = randn_tensor
    scheduling_utils = module("diffusers.schedulers.scheduling_utils")

    class KarrasDiffusionSchedulers(enum.Enum):
        DDIMScheduler = 1

    class SchedulerMixin:
        pass

    scheduling_utils.KarrasDiffusionSchedulers = KarrasDiffusionSchedulers
    scheduling_utils.SchedulerMixin = SchedulerMixin
    ddim = module("diffusers.schedulers.scheduling_ddim")
    ddim.__package__ = "diffusers.schedulers"
    exec(compile(source, SCHEDULER_PATH, "exec"), ddim.__dict__)
    return ddim.DDIMScheduler, commit


def make(spacing, offset, alpha_to_one, scheduler_class):
    return scheduler_class(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                           clip_sample=False, set_alpha_to_one=alpha_to_one, steps_offset=offset,
                           prediction_type="epsilon", timestep_spacing=spacing)


def model(x, t):
    return x * (0.5 * t / 1000) + 0.1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--diffusers-git", default="/work/.mirror/huggingface+diffusers/repo")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "ddim_scheduler.json"))
    args = parser.parse_args()
    DDIMScheduler, commit = load_ddim(args.diffusers_git)

    x_start = np.random.default_rng(0).standard_normal((1, 4, 3, 3)).astype(np.float32)
    reference = make("leading", 1, False, DDIMScheduler)
    cases = []
    for spacing in ["leading", "trailing", "linspace"]:
        for offset in [0, 1]:
            for alpha_to_one in [False, True]:
                for steps in [1, 7, 10, 50]:
                    s = make(spacing, offset, alpha_to_one, DDIMScheduler)
                    s.set_timesteps(steps)
                    case = {"spacing": spacing, "steps_offset": offset, "set_alpha_to_one": alpha_to_one, "steps": steps,
                            "timesteps": [int(t) for t in s.timesteps]}
                    if steps in (7, 10):
                        x = torch.from_numpy(x_start.copy())
                        for i, t in enumerate(s.timesteps):
                            out = s.step(model(x, int(t)), int(t), x, eta=0.0)
                            if i == 0:
                                case["first_latent"] = out.prev_sample.flatten().tolist()
                                case["first_x0"] = out.pred_original_sample.flatten().tolist()
                            x = out.prev_sample
                        case["final_latent"] = x.flatten().tolist()
                    cases.append(case)

    ldm = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    ldm_alphas = torch.cumprod(1 - ldm, 0).float()
    fixture = {
        "description": __doc__.strip().split("\n\n")[0],
        "diffusers_commit": commit,
        "scheduler_file": SCHEDULER_PATH,
        "torch": torch.__version__,
        "model": "eps = x * (0.5 * t / 1000) + 0.1 (t a python int)",
        "x_start_shape": list(x_start.shape),
        "x_start": x_start.flatten().tolist(),
        "alphas_cumprod": reference.alphas_cumprod.tolist(),
        "max_abs_diff_to_ldm_alphas_cumprod": float((reference.alphas_cumprod - ldm_alphas).abs().max()),
        "cases": cases,
    }
    with open(args.out, "w") as f:
        json.dump(fixture, f, indent=1)
    print(f"wrote {args.out}: {len(cases)} cases from diffusers {commit[:10]}; "
          f"alphas_cumprod differs from ldm's float64 table by up to {fixture['max_abs_diff_to_ldm_alphas_cumprod']:.3g}")


if __name__ == "__main__":
    main()
