"""Evaluation: ``metrics`` (the one SSIM with named settings, PSNR, L1, IoU, end-point error,
breakdowns), ``face`` (face SSIM against the input photo), ``perceptual`` (LPIPS / FID / KID from local
weights)."""
