"End-to-end and bad-input tests for the shipped toy-world judge."
import pytest
from image2prompt.core import read_jsonl
from image2prompt.toyworld import build_dataset, render, ATTRS
from image2prompt.judge import load_judge, judge_images, judge_accuracy

@pytest.fixture(scope='module')
def judge(): return load_judge(device='cpu')

def test_reads_a_built_imagefolder(tmp_path, judge):
    build_dataset(tmp_path, 60, seed=42, tail_count=2, progress=False)
    rows = read_jsonl(tmp_path/'metadata.jsonl')
    acc = judge_accuracy(judge, [tmp_path/r['file_name'] for r in rows], rows)
    assert set(acc) == set(ATTRS) and min(acc.values()) >= 0.9, acc

def test_reads_prompts_it_renders(judge):
    prompts = ['a watercolor painting of two red triangles, night', 'an outline drawing of a blue hand with three fingers',
               'a flat icon of three yellow stars at sunset', 'a green star anise']
    imgs, attrs = zip(*[render(p, seed=7) for p in prompts])
    pr = judge_images(judge, list(imgs))
    assert list(pr.object) == ['triangle', 'hand', 'star', 'star anise']
    assert pr.fingers[1] == 3 and list(pr['count']) == [2, 1, 3, 1]

def test_other_sizes_are_resized(judge):
    img, a = render('a red heart', seed=1, size=128)
    assert judge_images(judge, [img]).object[0] == 'heart'

def test_bad_input(tmp_path, judge):
    with pytest.raises(FileNotFoundError, match='not a judge folder'): load_judge(tmp_path)
    img, a = render('a red heart')
    with pytest.raises(ValueError, match='1 images but 2'): judge_accuracy(judge, [img], [a, a])
    with pytest.raises(ValueError, match="'teal'"): judge_accuracy(judge, [img], [a | {'color':'teal'}])
