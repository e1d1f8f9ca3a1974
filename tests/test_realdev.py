"""The real dev protocol (``python -m tryon.stages.realdev``): the dev split carved out of the real train
persons, and the params overrides of a dev run."""

from __future__ import annotations

import pandas as pd
import pytest

from tryon import config
from tryon.data.real import COLUMNS
from tryon.stages.realdev import dev_split, params_with


def _table() -> pd.DataFrame:
    rows = []
    for i in range(8):  # 8 train persons with a paired and an unpaired pair, 3 test persons
        split = "test" if i >= 5 else "train"
        for mode in ("paired", "unpaired"):
            rows.append({"subset": "vitonhd" if i % 2 else "dresscode", "person_id": f"p{i}", "split": split,
                         "mode": mode})  # fmt: skip
    rows.append({"subset": "vitonhd", "person_id": "u9", "split": "train", "mode": "unpaired"})  # no paired
    df = pd.DataFrame(rows)
    df["id"] = df["subset"] + "/" + df["person_id"] + "__" + df["mode"]
    for c in COLUMNS:
        if c not in df:
            df[c] = ""
    return df[COLUMNS]


def test_dev_split_holds_out_whole_train_persons_and_hides_the_test_split():
    table = _table()
    out = dev_split(table, n_dev=2, seed=0)
    assert len(out) == len(table) and (out["id"] == table["id"]).all()
    assert (out.loc[table["split"] == "test", "split"] == "heldout").all()  # nobody reads the test split
    dev = out[out["split"] == "test"]
    persons = set(zip(dev["subset"], dev["person_id"], strict=True))
    assert len(persons) == 2 and all(p.startswith("p") and int(p[1:]) < 5 for _, p in persons)
    assert (dev.groupby("person_id").size() == 2).all()  # both pairs of each held-out person
    assert set(out["split"]) == {"train", "test", "heldout"}
    train = out[out["split"] == "train"]
    assert not persons & set(zip(train["subset"], train["person_id"], strict=True))  # no person on both sides
    assert dev_split(table, 2, 0).equals(out) and not dev_split(table, 2, 1).equals(out)  # seeded
    with pytest.raises(ValueError, match="n_dev"):
        dev_split(table, n_dev=5)  # must leave at least one train person


def test_params_with_overrides_are_validated_and_drop_the_ablation_rows(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(config.dump_yaml(config.parse_params({})))
    p = params_with(tmp_path, ["05_train.real_steps=20", "05_train.fusion_keep=warped_mask"])
    assert p.train.real_steps == 20 and p.train.fusion_keep == "warped_mask" and p.train.ablation_steps == 0
    with pytest.raises(ValueError, match="SECTION.KEY=VALUE"):
        params_with(tmp_path, ["real_steps=20"])
    with pytest.raises(config.ParamsError):
        params_with(tmp_path, ["05_train.fusion_keep=sometimes"])


def test_cli_errors_are_one_line(tmp_path, capsys):
    from tryon.stages.realdev import main

    assert main(["eval", "nothing", "--dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "model.pt: not found" in err and "\n" not in err


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("fill_ramp", "expected KEY=NUMBER"),
        ("fill_ramp=soft", "expected KEY=NUMBER"),
        ("gate=0.5", "expected one of ['kept_gate', 'fill_ramp']"),
        ("fill_ramp=2", "expected a width in [0, 1]"),
        ("kept_gate=1", "fusion_kept_gate"),
    ],
)
def test_eval_fusion_settings_are_checked_before_the_model_is_read(tmp_path, capsys, setting, message):
    from tryon.stages.realdev import main

    assert main(["eval", "nothing", "--dir", str(tmp_path), "--fusion", setting]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert "model.pt" not in err  # refused before the (missing) checkpoint is looked for
