"Reproduce the pilot row of data/results/dreambooth_toy_eval.json (lora+prior, 800 steps) through whichever image2prompt is on the path."
import sys, json, time, torch
torch.set_num_threads(1)
import image2prompt
from image2prompt.core import asset
from image2prompt.dreambooth_eval import toy_eval, toy_runs
t0 = time.time()
res = toy_eval(asset('toy_pipeline'), sys.argv[1], runs={'lora+prior': toy_runs(steps=800, lora_lr=1e-3, full_lr=1e-4, rank=8)['lora+prior']},
               n_eval=16, n_class_images=48, gen_steps=20, guidance=5.0, curve_every=200, device='cpu')
rows = res['rows'] if isinstance(res, dict) and 'rows' in res else res
print(json.dumps(dict(code=image2prompt.__file__, wall_s=time.time() - t0, rows=rows), default=str))
