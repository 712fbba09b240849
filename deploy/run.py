"""`make run`'s supervisor: gunicorn and a job worker (with the scheduler) side by side, in the
environment it was given. Ctrl+C or SIGTERM stops both (the worker finishes the job in hand;
a second Ctrl+C stops it at once). If either exits by itself, it says so and stops the other,
so a crashed worker cannot go unnoticed behind a site that still answers."""

import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

REPO = Path(__file__).resolve().parent.parent
COMMANDS = {
    "web server": [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "blog_project.wsgi"],
    "job worker": [sys.executable, "manage.py", "worker", "--scheduler"],
}


def say(text: str) -> None:
    print(f"\n  {text}\n", file=sys.stderr, flush=True)


def main() -> int:
    # Own sessions: the terminal's Ctrl+C reaches only this process, which passes it on once
    # per press (a worker that got it twice at once would drop the job in hand).
    children = {
        name: subprocess.Popen(command, cwd=REPO, start_new_session=True)
        for name, command in COMMANDS.items()
    }
    stopping = False

    def send(signum: int) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signum)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if not stopping:
            say("Stopping (the worker finishes the job in hand; Ctrl+C again stops it at once)...")
        stopping = True
        send(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    status = 0
    while [child.poll() for child in children.values()].count(None):  # polls each (reaps the exited)
        for name, child in children.items():
            if not stopping and child.returncode is not None:
                say(f"The {name} exited with code {child.returncode}: stopping the rest.")
                stopping, status = True, 1
                send(signal.SIGTERM)
        time.sleep(0.2)
    return status


if __name__ == "__main__":
    sys.exit(main())
