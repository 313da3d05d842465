import json, torch
torch.set_num_threads(1)
from pathlib import Path
from image2prompt.diffusion import load_pipeline
from image2prompt.predict_experiment import make_toy_sets, toy_experiment
W = Path('/work/scratch/exp_pipeline')
sets = make_toy_sets(W/'data', n_train=1000, n_valid=150, n_test=150, seed=20, pipe=load_pipeline(device='cpu'))
OPTS = dict(size=64, head='linear', trainable='head', lp_epochs=40, bs=64, lr=3e-3)
ex = toy_experiment(sets['train'], sets['valid'], sets['test'], W/'run', seed=0, device='cpu', **OPTS)
print(json.dumps({k: v for k, v in ex.items() if k not in ('reg', 'bank')}, default=str))
