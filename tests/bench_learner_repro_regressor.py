"Reproduce data/results/regressor/experiment_pipeline_lp.json (LP, linear head, 64 px, 40 epochs) through whichever image2prompt is on the path."
import sys, json, time, torch
torch.set_num_threads(1)
from pathlib import Path
import image2prompt
from image2prompt.predict_experiment import make_toy_sets, toy_experiment
W, run, seed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
if not (W/'data'/'test'/'metadata.jsonl').exists():
    from image2prompt.diffusion import load_pipeline
    t0 = time.time(); make_toy_sets(W/'data', n_train=1000, n_valid=150, n_test=150, seed=20, pipe=load_pipeline(device='cpu')); print('sets', time.time() - t0, flush=True)
OPTS = dict(size=64, head='linear', trainable='head', lp_epochs=40, bs=64, lr=3e-3)
ex = toy_experiment(W/'data'/'train', W/'data'/'valid', W/'data'/'test', W/run, seed=seed, device='cpu', **OPTS)
print(json.dumps(dict(code=image2prompt.__file__, seed=seed, valid_cos=ex['train']['valid_cos'], rows=ex['rows'], secs=ex.get('secs')), default=str))
