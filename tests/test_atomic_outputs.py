"Pipeline folders are written as a whole (issue 15, item 12): a save that dies half-way leaves the old folder or none."
from pathlib import Path
import pytest
from diffusers import StableDiffusionPipeline

def _dies_half_way(self, path, **kw):
    (Path(path)/'model_index.json').write_text('{}'); raise RuntimeError('killed while saving')

def test_tiny_builder_is_atomic(tmp_path, monkeypatch):
    from image2prompt.test_utils import tiny_sd_pipeline
    out = tmp_path/'tiny'; tiny_sd_pipeline(out)
    before = sorted(p.relative_to(out) for p in out.rglob('*'))
    monkeypatch.setattr(StableDiffusionPipeline, 'save_pretrained', _dies_half_way)
    with pytest.raises(RuntimeError, match='killed'): tiny_sd_pipeline(out, seed=1)
    assert sorted(p.relative_to(out) for p in out.rglob('*')) == before  # the old pipeline, untouched
    with pytest.raises(RuntimeError, match='killed'): tiny_sd_pipeline(tmp_path/'new')
    assert not (tmp_path/'new').exists() and [p.name for p in tmp_path.iterdir()] == ['tiny']  # no half-written folder, no temp left
