"""Conversion into what WhatsApp accepts: guarded child processes (ffmpeg,
ffprobe, and Pillow in a worker) running the recipes of ``origin.whatsapp``,
and the jobs that report on them."""
