"Run an `image2prompt` sub-command in-process (`run_cli`, returns the result) or in a subprocess the way the console script does (`python tests/i2p_cli.py CMD ...`)."
import sys
from image2prompt.cli import main, run as run_cli  # `run_cli` returns the command's result, for in-process tests

__all__ = ['main', 'run_cli']

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
