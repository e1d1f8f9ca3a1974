"""Contour generator shapes and its ability to copy the trunk (identity) through the skips."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tryon import runtime
from tryon.nets.contour import ContourGenerator, build_contour_generator, levels_for


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


def test_levels_follow_the_method():
    assert levels_for(512) == 6 and 512 // 2 ** levels_for(512) == 8  # 8x8 bottleneck at 512 ([0128])
    assert levels_for(256) == 6 and levels_for(128) == 6
    assert 64 // 2 ** levels_for(64) == 2 and 32 // 2 ** levels_for(32) == 2


@pytest.mark.parametrize("size", [128, 256, 512])
def test_generator_runs_at_method_sizes(size):
    g = build_contour_generator(size, base_channels=4 if size == 512 else 16)
    with torch.no_grad():
        out = g(torch.randn(1, 1, size, size), torch.rand(1, 3, size, size) * 2 - 1)["contour"]
    assert out.shape == (1, 3, size, size)
    assert out.abs().max() <= 1.0


def test_widths_are_16_to_256():
    g = build_contour_generator(512)
    widths = [blk[0].out_channels for blk in g.enc]
    assert widths == [16, 32, 64, 128, 256, 256]
    assert all(
        isinstance(m, torch.nn.InstanceNorm2d) for blk in g.enc[1:] for m in blk if "Norm" in type(m).__name__
    )


def test_padded_non_square_real_image():
    # a portrait photo 3:4 zero-padded to square (what the data pipeline does), and a raw non-square input
    g = build_contour_generator(128, base_channels=8)
    photo = torch.rand(1, 3, 128, 96) * 2 - 1
    padded = F.pad(photo, (16, 16, 0, 0))  # [1,3,128,128]
    with torch.no_grad():
        assert g(torch.zeros(1, 1, 128, 128), padded)["contour"].shape == (1, 3, 128, 128)
        assert g(torch.zeros(1, 1, 128, 96), photo)["contour"].shape == (1, 3, 128, 96)
        assert g(torch.zeros(1, 1, 100, 75), photo[..., :100, :75])["contour"].shape == (1, 3, 100, 75)
    with pytest.raises(ValueError, match="differ in size"):
        g(torch.zeros(1, 1, 64, 64), padded)


def test_batched_equals_single():
    g = build_contour_generator(64, base_channels=8).eval()
    body, trunk = torch.randn(3, 1, 64, 64), torch.rand(3, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        full = g(body, trunk)["contour"]
        one = g(body[1:2], trunk[1:2])["contour"]
    torch.testing.assert_close(full[1:2], one, atol=1e-5, rtol=1e-4)


def test_skips_let_it_copy_the_trunk_quickly():
    # identity must survive: with the input skip, learning to reproduce the trunk is fast
    torch.manual_seed(0)
    g = ContourGenerator(1, 3, base_channels=8, n_down=4)
    trunk = torch.rand(4, 3, 32, 32) * 1.6 - 0.8
    body = torch.zeros(4, 1, 32, 32)
    opt = torch.optim.Adam(g.parameters(), 3e-3)
    first = None
    for _ in range(150):
        loss = (g(body, trunk)["contour"] - trunk).abs().mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.25 * first


# ------------------------------------------------------------------------------------------------
# Stage 03_contour (tiny prepared folder rendered by the synthetic generator)
# ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def prepared_root(tmp_path_factory):
    from tryon.data.synthetic import generate

    root = tmp_path_factory.mktemp("root")
    generate(root / "data" / "01_prepare", n=10, size=64, seed=0, n_test=2, n_dev=4)
    return root


def _tiny_params():
    from tryon.config import parse_params

    return parse_params(
        {
            "base": {"image_size": 64, "device": "cpu", "num_threads": 1},
            "03_contour": {"steps": 3, "batch_size": 4, "log_every": 1},
        }
    )


def test_width_measurement_agrees_with_the_generator(prepared_root):
    # the stage measures widths on contour images; on the ground-truth contour it must reproduce the
    # generator's own silhouette measurements (manifest hip_w_px / shoulder_w_px), up to soft edges
    import numpy as np

    from tryon.data.dataset import TryOnDataset
    from tryon.eval.metrics import contour_foreground
    from tryon.stages.contour import body_rows, face_centre_x, run_width
    from tryon.text import parse_body_text

    ds = TryOnDataset(prepared_root / "data" / "01_prepare", "train", 64)
    hip_err, sh_err = [], []
    for i in range(len(ds)):
        s, row = ds[i], ds.table.iloc[i]
        fg = contour_foreground(s["contour"][None])[0, 0].numpy() > 0.5
        rows = body_rows(parse_body_text(s["text"]), 64, 170.0)
        cx = face_centre_x(s["parse"])
        assert rows["shoulder"] < rows["hip"]  # y down
        hip_err.append(run_width(fg, rows["hip"], cx) - row["hip_w_px"])
        sh_err.append(run_width(fg, rows["shoulder"], cx) - row["shoulder_w_px"])
    assert np.abs(hip_err).max() <= 2.5 and np.abs(sh_err).max() <= 2.5


def test_run_width_and_ladder():
    import math

    import numpy as np

    from tryon.stages.contour import run_width, weight_ladder
    from tryon.text import parse_body_text

    fg = np.zeros((5, 20), bool)
    fg[2, 3:6] = True  # an arm, not through the centre
    fg[2, 8:15] = True  # the body, 7 px
    assert run_width(fg, 2, cx=10.5, band=0) == 7.0
    assert run_width(fg, 2, cx=1.5, band=0) == 0.0
    ladder = weight_ladder(parse_body_text("height 160cm, weight 55kg, pear, thin"), 170.0)
    assert [t.build for t in ladder] == ["thin", "well-proportioned", "slightly fat", "fat"]
    assert all(a.weight_kg < b.weight_kg for a, b in zip(ladder, ladder[1:], strict=False))
    assert all(t.height_cm == 160.0 and t.body_type == "pear" for t in ladder)
    assert weight_ladder(parse_body_text("pear"), 170.0)[0].height_cm == 170.0
    assert not math.isnan(weight_ladder(parse_body_text("pear"), 170.0)[0].weight_kg)


def test_stage_03_runs_end_to_end(prepared_root):
    import matplotlib.figure

    from tryon.data.dataset import TryOnDataset
    from tryon.stages import contour as stage
    from tryon.stages import encode

    params = _tiny_params()
    encode.run(params, prepared_root)
    metrics = stage.run(params, prepared_root, progress=False)
    out = prepared_root / "data" / "03_contour"
    assert (out / "model.pt").is_file() and (out / "history.json").is_file()
    assert metrics["steps"] == 3 and metrics["vgg_weights"] == "random(seed=0)"
    assert metrics["n_test_with_contour"] == 4
    assert metrics["precision"] == runtime.precision_text("cpu", params.contour.amp)
    for k in ("silhouette_iou", "face_ssim", "hip_width_monotone_rate", "pear_v_flip_rate"):
        assert 0.0 <= metrics[k] <= 1.0 or k == "face_ssim" and -1.0 <= metrics[k] <= 1.0
    assert len(metrics["per_sample"]) == 4
    net, vocab, ck = stage.load_trained(prepared_root)
    assert ck["step"] == 3 and set(ck) >= {"text_mlp", "contour_gen", "architecture", "vocab"}
    test = stage.CodedDataset(TryOnDataset(prepared_root / "data" / "01_prepare", "test", 64), vocab)
    from tryon.viz.train import loss_curves

    figs = [
        stage.comparison_figure(net, test, vocab, n=2),
        stage.text_variation_figure(net, test[0], vocab),
        loss_curves(ck["history"]),
    ]
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)


def test_keep_mask_composition():
    torch.manual_seed(0)
    g = build_contour_generator(64, base_channels=8)
    body, trunk = torch.randn(2, 1, 64, 64), torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        out = g(body, trunk)
        # force the keep-mask to 1: the contour is the trunk, exactly (identity is copied, not redrawn)
        g.head[1].bias[3] = 1e4
        kept = g(body, trunk)
    torch.testing.assert_close(
        out["contour"], out["keep_mask"] * trunk + (1 - out["keep_mask"]) * out["generated"]
    )
    torch.testing.assert_close(kept["contour"], trunk)
    plain = build_contour_generator(64, base_channels=8, compose=False)
    assert plain.head[1].out_channels == 3 and set(plain(body, trunk)) == {"contour"}


@pytest.mark.shared
@pytest.mark.parametrize("layout", ["vitonhd", "dresscode"])
def test_generator_on_padded_non_square_real_photos(shared_samples, layout):
    from tryon.data.dataset import RealPairsDataset
    from tryon.nets.contour import TextContourNet
    from tryon.nets.text_mlp import build_text_mlp
    from tryon.stages.contour import CodedDataset, evaluate_contours
    from tryon.text import Vocabulary

    ds = RealPairsDataset(shared_samples / layout, pairs="paired", image_size=128)
    s = ds[0]
    w, h = (int(v) for v in s["orig_size"])
    assert w != h and int(s["pad"].sum()) > 0  # a portrait photo, zero-padded to square
    vocab = Vocabulary.build([ds[i]["text"] for i in range(min(len(ds), 4))])
    net = TextContourNet(
        build_text_mlp(vocab.code_dim, [32], "tanh", 1024, 1024.0), build_contour_generator(128, 8)
    )
    coded = CodedDataset(ds, vocab)
    with torch.no_grad():
        out = net(coded[0]["code"][None], s["trunk"][None])
    assert out["contour"].shape == (1, 3, 128, 128) and torch.isfinite(out["contour"]).all()
    # real samples carry no contour image: the shape metrics say so instead of inventing numbers
    assert evaluate_contours(net, [coded[0]], vocab, "cpu")["n_test_with_contour"] == 0


def test_coded_dataset_cache_keeps_values():
    from tryon.stages.contour import CodedDataset
    from tryon.text import Vocabulary

    class Source:
        reads = 0

        def __len__(self):
            return 2

        def __getitem__(self, i):
            Source.reads += 1
            g = torch.Generator().manual_seed(i)
            return {"text": "pear, thin", "trunk": torch.rand(3, 8, 8, generator=g) * 2 - 1, "extra": "x",
                    "has_contour": torch.tensor(True)}  # fmt: skip

    vocab = Vocabulary.build(["pear, thin", "V, fat"])
    ds = CodedDataset(Source(), vocab, keys=("trunk", "has_contour"))
    first, again = ds[1], ds[1]
    assert Source.reads == 1 and set(again) == {"trunk", "has_contour", "code"}
    assert again["trunk"].dtype == torch.float32
    torch.testing.assert_close(again["trunk"], first["trunk"], atol=5e-4, rtol=0)
    torch.testing.assert_close(again["code"], torch.from_numpy(vocab.encode("pear, thin")))
