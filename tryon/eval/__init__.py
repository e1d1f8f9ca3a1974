"""Evaluation: ``metrics`` (the one SSIM with named settings, PSNR, L1, IoU, end-point error,
breakdowns), ``face`` (face SSIM against the input photo), ``photo`` (figures of a try-on against a
real photo: garment SSIM, garment edge SSIM, sharpness), ``baselines`` (network-free try-on images to
read them against), ``perceptual`` (LPIPS / FID / KID from local weights), ``viton`` (the paired VITON
benchmark), ``unpaired`` (the unpaired one: ``shape``, the worn garment's shape through the parser, and
``realism``, the two-sample critic; ``tryon eval realism`` in ``cli``), ``parsers`` (the learned parser
against the mediapipe rules), ``versus`` (paired differences with intervals), ``sources``."""
