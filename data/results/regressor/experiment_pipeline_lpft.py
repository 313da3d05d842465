import json, torch
torch.set_num_threads(1)
from pathlib import Path
from image2prompt.diffusion import load_pipeline
from image2prompt.predict_experiment import make_toy_sets, toy_experiment
W = Path('/work/scratch/exp_pipeline')
sets = make_toy_sets(W/'data', n_train=1000, n_valid=150, n_test=150, seed=20, pipe=load_pipeline(device='cpu'))
OPTS = dict(size=64, head='linear', trainable='last', n_blocks=3, lp_epochs=40, ft_epochs=8, bs=64, lr=3e-3, ft_lr=1e-3, lr_decay=0.6, ema=0.99)
ex = toy_experiment(sets['train'], sets['valid'], sets['test'], W/'run_ft', seed=0, device='cpu', **OPTS)
print(json.dumps({k: v for k, v in ex.items() if k not in ('reg', 'bank')}, default=str))
