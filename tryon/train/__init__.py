"""Training: the deterministic, resumable, distributed loop (``loop``) and the end-to-end loss step
of stage 05 (``step``). The pretraining steps of stages 03 and 04 live with their stages."""
