"""Benchmark: one linear-probe epoch re-encoding images through the frozen backbone vs on cached features, same process.
Usage: python tests/bench_cache.py IMAGE_FOLDER [N=512] [SIZE=96] [OUT_JSON]   (not run in CI)"""
import sys, json, torch
from pathlib import Path
from image2prompt.core import save_json
from image2prompt.regressor import Regressor, timm_backbone
from image2prompt.train import load_pairs, bench_cache

if __name__ == '__main__':
    torch.set_num_threads(1)
    folder, n = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 512
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 96
    df, Y = load_pairs(folder)
    torch.manual_seed(0); reg = Regressor(timm_backbone(size=size))
    r = dict(bench_cache(reg, df.path[:n].tolist(), Y[:n], bs=64, device='cpu'), backbone='timm:efficientnet_lite0', size=size,
             threads=1, command=' '.join(['python tests/bench_cache.py', *sys.argv[1:]]))
    print(json.dumps(r, indent=1))
    if len(sys.argv) > 4: save_json(sys.argv[4], r)
