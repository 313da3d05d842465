import os, sys
import pytest
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')
os.environ.setdefault('MPLBACKEND', 'Agg'); os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')

def pytest_addoption(parser):
    parser.addoption('--runslow', action='store_true', help='also run tests marked slow (or set I2P_SLOW=1)')

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: long or browser-driven test, skipped unless --runslow or I2P_SLOW=1')

def pytest_collection_modifyitems(config, items):
    if config.getoption('--runslow') or os.environ.get('I2P_SLOW') == '1': return
    skip = pytest.mark.skip(reason='slow: run with --runslow or I2P_SLOW=1')
    for it in items:
        if it.get_closest_marker('slow'): it.add_marker(skip)
