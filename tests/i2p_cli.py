"Run an `image2prompt` sub-command in a subprocess the way the console script does (`python tests/i2p_cli.py CMD ...`)."
import sys
from image2prompt.cli import main as run_cli

if __name__ == '__main__': run_cli(sys.argv[1:])
