import pickle

import pytest

from medxai.errors import InputError, MedxaiError, OutputError


@pytest.mark.parametrize("cls", [InputError, OutputError])
def test_path_errors_name_the_path_and_survive_pickling(cls):
    err = cls("/data/study/image1.png", "not a PNG file\n(bad signature)")
    assert str(err) == "/data/study/image1.png: not a PNG file (bad signature)"
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert (back.path, back.problem, str(back)) == (err.path, err.problem, str(err))
    assert isinstance(back, MedxaiError)
