"""``05_train.resume`` resumes a phase only from a checkpoint of the same recipe (``recipe.json`` beside it):
another profile's checkpoint in the persistent ``data/05_train`` starts the phase afresh."""

from __future__ import annotations

import dataclasses

from stage05_worker import tiny_params  # tests/ is on sys.path

from tryon.stages.train import resumable


def _with(p, **train):
    return dataclasses.replace(p, train=dataclasses.replace(p.train, **train))


def test_resume_only_from_the_same_recipe(tmp_path, capsys):
    p = tiny_params(resume=True)
    assert not resumable(p, tmp_path), "no recipe yet: nothing to resume"
    assert (tmp_path / "recipe.json").is_file()
    assert resumable(p, tmp_path)
    assert resumable(_with(p, real_steps=60, steps=40, log_every=7), tmp_path), "a longer run extends it"
    assert not resumable(_with(p, real_fraction=0.75), tmp_path), "another recipe starts afresh"
    assert "holds another recipe's checkpoint; starting afresh" in capsys.readouterr().out
    assert resumable(_with(p, real_fraction=0.75), tmp_path), "and its recipe is the one kept"
    assert not resumable(_with(p, resume=False, real_fraction=0.75), tmp_path), "resume off: never"
