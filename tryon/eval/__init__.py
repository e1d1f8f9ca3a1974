"""Evaluation: ``metrics`` (the one SSIM with named settings, PSNR, L1, IoU, end-point error,
breakdowns), ``face`` (face SSIM against the input photo), ``photo`` (figures of a try-on against a
real photo: garment SSIM, garment edge SSIM, sharpness), ``baselines`` (network-free try-on images to
read them against), ``perceptual`` (LPIPS / FID / KID from local weights)."""
