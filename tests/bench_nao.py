"""NAO initialisation on the toy world, with the bootstrapping table's protocol (`seedselect_eval.eval_nao`). Run by hand, not in CI.

    OMP_NUM_THREADS=1 nice -n 10 python tests/bench_nao.py --work WORK_DIR/nao_run --out data/results/seedselect_nao.json

Per tail concept and hand: vanilla SeedSelect (random starts, public schedule, 30 iterations) sets the target loss; random noise,
the pool of the earlier concepts' seeds and NAO (plain, and with the path points scored) each run to it with
`Bootstrap(fine_lr=0.1, fine_iters=10)`. Per-concept folders go to --work (resumable); the summary goes to --out.
"""
import argparse, os, platform, sys, tempfile, time
import torch

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--work', default=os.path.join(tempfile.gettempdir(), 'nao_run')); p.add_argument('--out', default='data/results/seedselect_nao.json')
    p.add_argument('--embedder', default='toy_encoder', choices=['toy_encoder', 'efficientnet_lite0'])
    p.add_argument('--fingers', default='3,2', help="hand concepts to measure after the tail objects ('' for none)")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    from image2prompt.seedselect import NAO, effnet_embedder, toy_encoder_embedder
    from image2prompt.seedselect_eval import eval_nao
    from image2prompt.core import save_json
    import diffusers
    emb = toy_encoder_embedder(device='cpu') if a.embedder == 'toy_encoder' else effnet_embedder(size=128, device='cpu')
    naos = {'nao': NAO(), 'nao_scored': NAO(score_t=(0.25, 0.5, 0.75))}
    t0 = time.perf_counter()
    fingers = tuple(int(f) for f in a.fingers.split(',') if f)
    s = eval_nao(a.work, embedder=emb, naos=naos, fingers=fingers, device='cpu')
    s |= dict(command=' '.join(['python'] + sys.argv), minutes=round((time.perf_counter() - t0) / 60, 1),
              versions=dict(torch=torch.__version__, diffusers=diffusers.__version__, python=platform.python_version()),
              machine=dict(cores=os.cpu_count(), load_avg=os.getloadavg(), gpu=torch.cuda.is_available(), threads=1))
    save_json(a.out, s)
    return s

if __name__ == '__main__': main()
