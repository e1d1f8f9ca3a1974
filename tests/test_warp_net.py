"""WarpNet (features + transformer + matching + full-res warp) and the 04_warp stage functions."""

import dataclasses
import math

import pytest
import torch

from tryon import geometry as G
from tryon import runtime
from tryon.nets.features import TwoStreamFeatures
from tryon.nets.transformer import FeatureTransformer, sine_positional_encoding
from tryon.nets.warp import WarpNet, build_warp_net

SMALL = dict(feature_stride=8, d_model=32, n_layers=1, n_heads=2, base_channels=8)


def _inputs(b=2, s=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    contour = torch.rand(b, 3, s, s, generator=g) * 2 - 1
    garment = torch.rand(b, 3, s, s, generator=g) * 2 - 1
    mask = torch.zeros(b, 1, s, s)
    mask[..., s // 4 : 3 * s // 4, s // 4 : 3 * s // 4] = 1
    return contour, garment, mask


def _synthetic_batch(b=2, s=64, seed=0):
    """Samples with the data contract's keys: the worn garment is the flat one shifted by 4 px."""
    contour, garment, mask = _inputs(b, s, seed)
    flow = torch.zeros(b, 2, s, s)
    flow[:, 0] = 4.0
    gt_grid = G.flow_to_grid(flow)
    worn_mask = G.warp(mask, gt_grid)
    return [
        {"id": f"s{i}", "contour": contour[i], "garment": garment[i], "garment_mask": mask[i],
         "person": G.warp(garment, gt_grid)[i], "worn_mask": worn_mask[i], "gt_grid": gt_grid[i],
         "flow_valid": (worn_mask[i] > 0.999).float(), "garment_type": "tank",
         "trunk": contour[i] * (contour[i] > 0).float()}
        for i in range(b)
    ]  # fmt: skip


def test_feature_streams_downsample_to_stride():
    f = TwoStreamFeatures(d_model=16, stride=4, base_channels=8)
    out = f(torch.rand(2, 3, 32, 48), torch.rand(2, 4, 32, 48))
    assert out["contour"].shape == (2, 16, 8, 12) and out["garment"].shape == (2, 16, 8, 12)
    with pytest.raises(ValueError, match="multiple of the stride"):
        f(torch.rand(1, 3, 30, 32), torch.rand(1, 4, 30, 32))


def test_positional_encoding_distinguishes_positions():
    pe = sine_positional_encoding(8, 6, 32)  # [1, 32, 8, 6]
    flat = pe[0].flatten(1).T  # [48, 32]
    d = torch.cdist(flat, flat)
    assert d[~torch.eye(48, dtype=torch.bool)].min() > 1e-2


def test_transformer_mixes_streams():
    torch.manual_seed(0)
    tr = FeatureTransformer(d_model=16, n_heads=2, n_layers=2).eval()
    t, g = torch.randn(1, 16, 4, 4), torch.randn(1, 16, 3, 5)
    out = tr(t, g)
    assert out["contour"].shape == t.shape and out["garment"].shape == g.shape
    out2 = tr(t, g + torch.randn_like(g))  # cross-attention: the contour output depends on the garment
    assert not torch.allclose(out["contour"], out2["contour"])


def test_warpnet_output_shapes_and_ranges():
    torch.manual_seed(0)
    net = build_warp_net(**SMALL)
    c, g, m = _inputs()
    out = net(c, g, m)
    assert out["grid"].shape == (2, 2, 64, 64)
    assert out["grid_lowres"].shape == (2, 2, 8, 8)
    assert out["warped"].shape == (2, 3, 64, 64) and out["warped_mask"].shape == (2, 1, 64, 64)
    assert out["grid"].abs().max() <= 1.0  # a convex combination of garment cell centres
    assert out["warped_mask"].min() >= 0 and out["warped_mask"].max() <= 1
    assert "matrix" not in out
    # the full-res grid is the upsampled low-res grid and the warped image samples the garment at it
    assert torch.allclose(out["grid"], G.upsample_grid(out["grid_lowres"], (64, 64)))
    assert torch.allclose(out["warped"], G.warp(g, out["grid"]), atol=1e-6)


def test_warpnet_matching_modes_agree_and_matrix_on_request():
    torch.manual_seed(0)
    net = build_warp_net(**SMALL).eval()
    c, g, m = _inputs()
    with torch.no_grad():
        fused = net(c, g, m)
        naive = net(c, g, m, return_matrix=True)
        chunked = net(c, g, m, matching="chunked")
    assert torch.allclose(fused["grid"], naive["grid"], atol=1e-5)
    assert torch.allclose(chunked["grid"], naive["grid"], atol=1e-5)
    assert naive["matrix"].shape == (2, 64, 64)
    assert torch.allclose(naive["matrix"].sum(-1), torch.ones(2, 64), atol=1e-5)


def test_warpnet_convex_upsampling():
    torch.manual_seed(0)
    net = build_warp_net(**SMALL, upsample="convex")
    c, g, m = _inputs()
    out = net(c, g, m)
    assert out["grid"].shape == (2, 2, 64, 64)
    # a convex combination of neighbouring cells stays within the garment coordinates' range
    assert out["grid"].abs().max() <= 1.0 + 1e-6
    out["grid"].square().sum().backward()
    assert net.upsampler[0].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="upsample must be"):
        WarpNet(upsample="cubic")


def test_warpnet_batched_equals_one_by_one():
    torch.manual_seed(0)
    net = build_warp_net(**SMALL).eval()
    c, g, m = _inputs(b=3)
    with torch.no_grad():
        batched = net(c, g, m)["grid"]
        single = torch.cat([net(c[i : i + 1], g[i : i + 1], m[i : i + 1])["grid"] for i in range(3)])
    assert torch.allclose(batched, single, atol=1e-5)


def test_gradients_flow_to_both_streams():
    torch.manual_seed(0)
    net = build_warp_net(**SMALL)
    c, g, m = _inputs()
    out = net(c, g, m)
    (out["grid"].square().sum() + out["warped"].sum()).backward()
    for stream in (net.features.contour, net.features.garment):
        norms = [p.grad.abs().sum() for p in stream.parameters() if p.grad is not None]
        assert norms and sum(norms) > 0
    for layers in (net.transformer.contour_layers, net.transformer.garment_layers):
        assert sum(p.grad.abs().sum() for p in layers.parameters() if p.grad is not None) > 0


def test_warpnet_rejects_bad_inputs():
    net = build_warp_net(**SMALL)
    c, g, m = _inputs()
    with pytest.raises(ValueError, match="garment_mask must be"):
        net(c, g, g)
    with pytest.raises(ValueError, match="matching must be one of"):
        WarpNet(matching="dense")


# ------------------------------------------------------------------------------------------------
# Stage 04_warp functions (tiny, on in-memory samples with the data contract's keys)
# ------------------------------------------------------------------------------------------------
def _params(**warp_over):
    from tryon.config import parse_params

    p = parse_params({})
    return dataclasses.replace(p, warp=dataclasses.replace(p.warp, **warp_over))


def test_step_fn_terms_and_flow_supervision_sign():
    from tryon.stages.warp import loss_weights, make_step_fn

    torch.manual_seed(0)
    p = _params(lambda_vgg=0.0, lambda_mask=2.0, lambda_flow=1.0)
    net = build_warp_net(**SMALL)
    from tryon.train.loop import collate

    batch = collate(_synthetic_batch())
    terms = make_step_fn(loss_weights(p.warp), None, "ground_truth")(net, batch)
    assert set(terms) == {"warp_vgg", "warp_mask", "flow", "total"}
    assert terms["warp_vgg"] == 0
    assert torch.isclose(terms["total"], 2 * terms["warp_mask"] + terms["flow"])
    terms["total"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.features.contour.parameters())


def test_step_fn_with_vgg_term():
    from tryon.nets.vgg import build_vgg
    from tryon.stages.warp import make_step_fn
    from tryon.train.loop import collate

    torch.manual_seed(0)
    net = build_warp_net(**SMALL)
    vgg = build_vgg("", layers=("relu1_1", "relu2_1"))
    terms = make_step_fn({"warp_vgg": 1.0, "warp_mask": 1.0, "flow": 0.0}, vgg, "ground_truth")(
        net, collate(_synthetic_batch(b=1, s=32))
    )
    assert terms["warp_vgg"] > 0
    assert torch.isclose(terms["total"], terms["warp_vgg"] + terms["warp_mask"])


def test_generated_contour_source_needs_a_function():
    from tryon.stages.warp import contour_input
    from tryon.train.loop import collate

    batch = collate(_synthetic_batch())
    with pytest.raises(ValueError, match="contour_fn"):
        contour_input(batch, "generated")
    out = contour_input(batch, "generated", lambda b: torch.zeros_like(b["garment"]))
    assert torch.equal(out, torch.zeros_like(batch["garment"]))


def test_evaluate_warp_gt_grid_model_scores_perfect():
    """A 'model' that returns the ground-truth grid must have zero EPE and IoU ~ 1 (metric sanity)."""
    from tryon.stages.warp import evaluate_warp

    data = _synthetic_batch(b=3)

    class Oracle(torch.nn.Module):
        def forward(self, contour, garment, garment_mask, return_matrix=False):
            grid = torch.stack([d["gt_grid"] for d in data])[: contour.shape[0]]
            return {"grid": grid, "warped": G.warp(garment, grid), "warped_mask": G.warp(garment_mask, grid)}

    s = evaluate_warp(Oracle(), data, batch_size=3)["summary"]
    assert s["epe_px"] < 1e-4 and s["warp_mask_iou"] > 0.99
    assert abs(s["identity_epe_px"] - 4.0) < 1e-3  # the data's shift
    assert not math.isnan(s["flow_spread_ratio"])


@pytest.mark.parametrize("amp", [True, False])
def test_both_warps_train_in_the_precision_amp_asks_for(tmp_path, monkeypatch, amp):
    from tryon.stages import warp as stage

    seen = []
    real_fit = stage.fit

    def recording_fit(*a, **k):
        seen.append(k.get("amp"))
        return real_fit(*a, **k)

    monkeypatch.setattr(stage, "fit", recording_fit)
    p = _params(steps=1, batch_size=2, lambda_vgg=0.0, d_model=32, n_layers=1, n_heads=2, base_channels=8,
                amp=amp)  # fmt: skip
    data = _synthetic_batch(b=4, s=32)
    stage.run(p, root=tmp_path, train_set=data, test_set=data[:2], device="cpu", progress=False)
    assert seen == [amp, amp]  # the contour-guided warp and the trunk-guided ablation alike


def test_run_trains_saves_and_writes_metrics(tmp_path):
    import json

    from tryon.stages.warp import load_warp_net, run

    p = _params(steps=2, batch_size=2, lambda_vgg=0.0, d_model=32, n_layers=1, n_heads=2, base_channels=8,
                log_every=1)  # fmt: skip
    data = _synthetic_batch(b=4, s=32)
    res = run(p, root=tmp_path, train_set=data, test_set=data[:2], device="cpu", progress=False)
    ck = tmp_path / "data" / "04_warp" / "model.pt"
    assert ck.is_file()
    net = load_warp_net(ck)
    assert isinstance(net, WarpNet)
    m = json.loads((tmp_path / "metrics" / "04_warp.json").read_text())
    for key in ("epe_px", "epe_frac_width", "warp_mask_iou", "flow_spread_ratio", "train_seconds"):
        assert key in m
    assert m["epe_frac_width"] == pytest.approx(m["epe_px"] / 32)
    assert len(res["fit"].history) == 2
    # the fair ablation: a second warp trained alike on the trunk map, saved and compared
    trunk_net = torch.load(tmp_path / "data" / "04_warp" / "model_trunk.pt", weights_only=False)
    assert trunk_net["contour_source"] == "trunk" and trunk_net["steps"] == 2
    fair = m["fair_ablation"]
    assert set(fair["rows"]) == {
        "contour_guided_ground-truth_contour",
        "trunk_guided_retrained",
    }  # snake_case keys
    assert fair["compared"].startswith("ground-truth contour")  # no stage-03 model in tmp_path
    for row in fair["rows"].values():
        assert row["epe_px"] >= 0 and 0 <= row["warp_mask_iou"] <= 1
    assert len(res["ablation"]["trunk_fit"].history) == 2
    assert m["precision"] == runtime.precision_text("cpu", p.warp.amp) == "float32 (amp off)"  # the default
    p_off = _params(steps=1, batch_size=2, lambda_vgg=0.0, d_model=32, n_layers=1, n_heads=2, base_channels=8,
                    ablation_trunk=False)  # fmt: skip
    off = run(p_off, root=tmp_path / "off", train_set=data, test_set=data[:2], device="cpu", progress=False)
    assert "ablation" not in off and not (tmp_path / "off" / "data" / "04_warp" / "model_trunk.pt").exists()


# ------------------------------------------------------------------------------------------------
# Figures (tryon.viz.warp) and the real-data helpers
# ------------------------------------------------------------------------------------------------
def test_checkerboard_and_query_points():
    from tryon.viz.warp import QUERY_NAMES, checkerboard, query_points

    b = checkerboard(16, cells=4)
    assert b.shape == (1, 3, 16, 16) and set(b.unique().tolist()) == {-1.0, 1.0}
    assert b[0, 0, 0, 0] != b[0, 0, 0, 4] and b[0, 0, 0, 0] == b[0, 0, 4, 4]
    mask = torch.zeros(1, 40, 40)
    mask[:, 10:30, 12:28] = 1
    pts = query_points(mask)
    assert tuple(pts) == QUERY_NAMES
    for x, y in pts.values():
        assert mask[0, y, x] == 1  # every query lies on the worn garment
    assert pts["hem"][1] > pts["chest"][1] > pts["shoulder"][1]


def test_figures_render(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from tryon.stages.warp import predict
    from tryon.viz.warp import fig_flow, fig_history, fig_matching_rows, fig_real

    torch.manual_seed(0)
    net = build_warp_net(**SMALL)
    data = _synthetic_batch(b=2, s=32)
    batch, out = predict(net, data, [0, 1])
    for fig in (
        fig_matching_rows(batch, out, 0),
        fig_flow(batch, out, 1),
        fig_real(batch, out, [0, 1]),
        fig_history([{"step": 1, "flow": 0.5, "total": 1.0}, {"step": 2, "flow": 0.2, "total": 0.4}]),
    ):
        fig.savefig(tmp_path / "f.png")
        assert (tmp_path / "f.png").stat().st_size > 1000


def test_parse_contour_proxy_paints_body_and_keeps_trunk():
    from tryon.stages.warp import parse_contour_proxy

    parse = torch.zeros(1, 8, 8, dtype=torch.int64)
    parse[:, 2:6, 2:6] = 5  # upper clothes
    parse[:, 0:2, 3:5] = 13  # face
    tm = (parse == 13).float()[:, None]
    person = torch.full((1, 3, 8, 8), 0.3)
    img = parse_contour_proxy({"parse": parse, "trunk_mask": tm, "person": person})
    assert torch.allclose(img[0, :, 0, 3], torch.full((3,), 0.3))  # trunk kept from the photo
    assert img[0, 0, 3, 3] < -0.5 and img[0, 0, 7, 7] > 0.8  # dark suit on the body, light background


@pytest.mark.shared
def test_evaluate_real_pairs_on_shared_samples():
    from tryon.paths import SHARED_SAMPLES

    root = SHARED_SAMPLES / "vitonhd"
    if not root.is_dir():
        pytest.skip(f"{root}: shared real samples absent")
    from tryon.data.dataset import RealPairsDataset
    from tryon.stages.warp import evaluate_real

    torch.manual_seed(0)
    ds = RealPairsDataset(root, "paired", image_size=64)
    res = evaluate_real(build_warp_net(**SMALL), ds, [0, 1])
    assert len(res["rows"]) == 2 and res["out"]["warped"].shape == (2, 3, 64, 64)
    assert all(0.0 <= r["warp_mask_iou"] <= 1.0 for r in res["rows"])
    assert "proxy" in res["contour_source"]
