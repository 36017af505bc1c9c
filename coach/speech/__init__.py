"""Spoken answers: speech to text with faster-whisper over the ``whisper-base`` pack."""
