"""Benchmark metrics: the Fréchet distances (FVD, cd-FVD, FID, FID-VID), the pixel metrics (PSNR, SSIM, LPIPS) and
the background-motion suite."""
