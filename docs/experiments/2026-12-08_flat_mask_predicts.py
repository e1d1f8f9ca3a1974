"""R^2 on held-out VITON train pairs of each worn shape quantity (tryon.eval.shape, true parse + pose) from the
flat garment's mask (16 x 12, ridge): what of the worn shape the flat garment can tell."""
import json, numpy as np
from pathlib import Path
from PIL import Image
from tryon.eval.unpaired import true_shape
from tryon import paths
root = Path(paths.SHARED_VITON) / "train"
lines = [l.split() for l in (root.parent / "train_pairs.txt").read_text().split("\n") if l.strip()]
rng = np.random.default_rng(0); idx = rng.choice(len(lines), 1000, replace=False)
Q = ("sleeve_reach", "hem", "shoulder_cover", "torso_cover", "width")
X, Y = [], []
for i in idx:
    p, c = lines[i]
    m = np.array(Image.open(root / "cloth-mask" / c).convert("L")) > 127
    s = true_shape(root / "image-parse" / p.replace(".jpg", ".png"), root / "pose" / p.replace(".jpg", "_keypoints.json"))
    X.append(np.array(Image.fromarray(m).resize((12, 16), Image.BILINEAR), float).ravel())
    Y.append([s[q] for q in Q])
X, Y = np.array(X), np.array(Y)
out = {"n_pairs": len(X), "features": "flat garment mask 16x12 (frame), ridge, 70/30 split of 1,000 random VITON train pairs"}
for j, q in enumerate(Q):
    ok = ~np.isnan(Y[:, j]); x, y = X[ok], Y[ok, j]; n = len(y); tr = np.arange(n) < int(0.7 * n)
    best = -9
    for lam in (10.0, 100.0, 1000.0):
        mu, ym = x[tr].mean(0), y[tr].mean(); F = x - mu
        w = np.linalg.solve(F[tr].T @ F[tr] + lam * np.eye(F.shape[1]), F[tr].T @ (y[tr] - ym))
        r = y[~tr] - ym - F[~tr] @ w
        best = max(best, 1 - r.var() / y[~tr].var())
    out[q] = {"n": int(n), "r2_holdout": round(float(best), 3), "sd": round(float(y.std()), 3)}
print(json.dumps(out, indent=1))
