"Run an `image2prompt` sub-command the way `cli.main` does, minus fastcore's `--pdb/--xtra` (which `main` passes on: reported)."
import sys

def run_cli(argv:list):
    from fastcore.script import anno_parser
    from image2prompt.cli import get_command
    f = get_command(argv[0]); a = vars(anno_parser(f, prog=f'image2prompt {argv[0]}').parse_args(argv[1:]))
    for k in ('pdb', 'xtra'): a.pop(k, None)
    return f(**a)

if __name__ == '__main__': run_cli(sys.argv[1:])
