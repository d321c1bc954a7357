#!/usr/bin/env python3
"""Counts cordon's questions for the tasks of issue 18 in a real terminal (tmux), answering as a careful user.

    bench/question-counts.py CORDON_BINARY WORKDIR [--runs 2] [--tasks npm,npx,clone,top,agent] [--fresh-each]

WORKDIR is created fresh: a home with a planted ssh key, an ~/.npmrc with a token and a ~/.gitconfig, a project
(package.json, README.md, Makefile, hello.c, a git repository) and a local upstream repository for `git clone`.
Every task runs in the project, on one tmux pane (120x50), with GITHUB_TOKEN set (the environment question).
Each task runs --runs times in a row with the same home, so a second run sees what the first saved. The tasks
run in the order given in one project (a day's work: npx after npm), or with --fresh-each each in a new home and
project (for npx, esbuild is then installed outside cordon first).
Between runs of a task what it made is removed outside cordon (node_modules, package-lock.json, the clone).

The keys, the same for every build:
  the environment question: d (withhold always) where offered, else n;
  a question naming a credentials place (~/.ssh, ~/.npmrc, ~/.aws, ~/.config/gh, ...): d;
  a question offering f (the project, a tool's cache, a folder, /proc/*/stat, localhost:*): f;
  anything else: a.
Prints one line per task and run: "TASK RUN QUESTIONS", and each question's header line with the key pressed;
WORKDIR/transcript-TASK-RUN.txt keeps the terminal's history of each run.
Not a test and never timed: it depends on the network (the npm registry) and on what is installed.
"""
import os
import re
import shutil
import subprocess
import sys
import time
import uuid

COLS, ROWS = 120, 50
SENSITIVE = (".ssh", ".npmrc", ".aws", ".config/gh", ".git-credentials", ".netrc", ".docker", ".kube", ".gnupg")
AGENT_COMMANDS = [
    "ls",
    "cat README.md",
    "git status",
    "git log --oneline -3",
    "grep -r express package.json",
    "python3 -c 'print(6*7)'",
    "node -e 'console.log(process.version)'",
    "npm --version",
    "make",
    "cc -o hello hello.c",
    "./hello",
    "vim README.md",      # quit with :q once it is drawn
    "less README.md",     # quit with q once it is drawn
    "git diff --stat",
    "find . -name '*.c' -not -path './node_modules/*'",
]


def sh(*args, cwd=None, env=None):
    subprocess.run(args, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Pane:
    def __init__(self, command, cwd, env):
        self.socket = "qc-" + uuid.uuid4().hex[:10]
        self.rc = os.path.join(cwd, "..", "rc-" + self.socket)
        script = os.path.join(cwd, "..", "run-" + self.socket + ".sh")
        with open(script, "w") as f:
            f.write(f"cd '{cwd}'\n{command}\necho $? > '{self.rc}'\nsleep 600\n")
        envs = [f"{k}={v}" for k, v in env.items()]
        self.tmux("new-session", "-d", "-s", "m", "-x", str(COLS), "-y", str(ROWS), "env", "-i", *envs, "sh", script)

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p", "-J", "-t", "m")

    def keys(self, *k):
        self.tmux("send-keys", "-t", "m", *k)

    def finished(self):
        try:
            return int(open(self.rc).read().strip())
        except (OSError, ValueError):
            return None

    def close(self):
        self.tmux("kill-server")


def open_box(screen):
    """The question on screen (from its header to its bottom border), or None."""
    start = screen.find("╭─ cordon:")
    if start < 0:
        return None
    end = screen.find("╰", start)
    return screen[start:end] if end > 0 else None


def key_for(box):
    if "cordon: environment" in box:
        return "d" if "d always withhold" in box else "n"
    if any(s in box for s in SENSITIVE):
        return "d"
    if re.search(r"\bf (folder|all|localhost)", box):
        return "f"
    return "a"


class Session:
    def __init__(self, pane):
        self.pane, self.questions, self.last = pane, [], None

    def step(self):
        """Answers the question on screen, if any; True when one was answered."""
        box = open_box(self.pane.screen())
        if box is None or box == self.last:
            if box is None:
                self.last = None
            return False
        k = key_for(box)
        lines = box.split("\n")
        what = lines[1].strip("│ ").strip() if len(lines) > 1 else ""
        self.questions.append((lines[0].strip("╭─ ").rstrip("─╮ ") + ": " + re.sub(r"\s+", " ", what), box, k))
        self.last = box
        self.pane.keys(k)
        deadline = time.time() + 20
        while time.time() < deadline and open_box(self.pane.screen()) == box:
            time.sleep(0.05)
        return True

    def idle(self, seconds):
        """Answers questions until none came for SECONDS; returns the screen."""
        quiet = time.time()
        while time.time() - quiet < seconds:
            if self.step():
                quiet = time.time()
            if self.pane.finished() is not None:
                break
            time.sleep(0.1)
        return self.pane.screen()

    def until_finished(self, limit=600):
        deadline = time.time() + limit
        while self.pane.finished() is None and time.time() < deadline:
            self.step()
            time.sleep(0.1)
        return self.pane.finished()


def setup(work):
    if os.path.exists(work):
        shutil.rmtree(work)
    home, proj, upstream = (os.path.join(work, d) for d in ("home", "proj", "upstream"))
    for d in (os.path.join(home, ".ssh"), proj, upstream):
        os.makedirs(d)
    open(os.path.join(home, ".ssh", "id_rsa"), "w").write("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n")
    open(os.path.join(home, ".npmrc"), "w").write("//registry.npmjs.org/:_authToken=npm_" + "x" * 36 + "\n")
    open(os.path.join(home, ".gitconfig"), "w").write("[user]\n\tname = Careful User\n\temail = careful@example.org\n")
    open(os.path.join(home, ".bashrc"), "w").write("PS1='agent$ '\n")
    open(os.path.join(proj, "package.json"), "w").write('{ "name": "first-day", "version": "1.0.0", "private": true }\n')
    open(os.path.join(proj, "README.md"), "w").write("# first day\n\nA project to try cordon with.\n")
    open(os.path.join(proj, "Makefile"), "w").write("all:\n\t@echo built\n")
    open(os.path.join(proj, "hello.c"), "w").write('#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n')
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for repo in (proj, upstream):
        sh("git", "init", "-q", cwd=repo)
        if repo == upstream:
            open(os.path.join(upstream, "lib.c"), "w").write("int lib(void) { return 1; }\n")
        sh(*git, "add", ".", cwd=repo)
        sh(*git, "commit", "-qm", "init", cwd=repo)
    return home, proj


def at_prompt(screen):
    lines = [l for l in screen.split("\n") if l.strip()]
    return bool(lines) and lines[-1].strip() == "agent$" and open_box(screen) is None


def run_task(cordon, task, home, proj, transcript):
    env = {"HOME": home, "PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "xterm-256color", "LANG": "C.UTF-8",
           "GITHUB_TOKEN": "ghp_" + "A" * 36, "USER": "careful"}
    commands = {
        "npm": "run -- npm install express lodash chalk esbuild",
        "npx": "run -- npx esbuild --version",
        "clone": "run -- git clone ../upstream clone",
        "top": "run -- top -d 2 -n 2",
        "agent": "run -- bash",
    }
    pane = Pane(f"'{cordon}' {commands[task]}", proj, env)
    s = Session(pane)
    try:
        if task == "agent":
            for command in AGENT_COMMANDS + ["exit"]:
                deadline = time.time() + 120
                while time.time() < deadline and not at_prompt(pane.screen()):
                    s.step()
                    time.sleep(0.1)
                pane.keys(command, "Enter")
                if command.startswith(("vim", "less")):
                    s.idle(2.0)
                    pane.keys(*([":q", "Enter"] if command.startswith("vim") else ["q"]))
                s.idle(0.7)
        rc = s.until_finished()
        with open(transcript, "w") as f:
            f.write(pane.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "m"))
        return s.questions, rc
    finally:
        pane.close()


def main():
    cordon, work = sys.argv[1], os.path.abspath(sys.argv[2])
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 2
    tasks = sys.argv[sys.argv.index("--tasks") + 1].split(",") if "--tasks" in sys.argv else ["npm", "npx", "clone", "top", "agent"]
    fresh = "--fresh-each" in sys.argv  # every task in a new home and project: nothing carried over from another task
    home, proj = setup(work)
    for task in tasks:
        if fresh and task != tasks[0]:
            home, proj = setup(work)
            if task == "npx":  # npx runs the esbuild that npm installed: install it outside cordon
                sh("npm", "install", "--silent", "esbuild", cwd=proj, env={**os.environ, "HOME": home})
        for run in range(1, runs + 1):
            questions, rc = run_task(cordon, task, home, proj, os.path.join(work, f"transcript-{task}-{run}.txt"))
            print(f"{task} run{run} {len(questions)} questions (exit {rc})", flush=True)
            for header, _, key in questions:
                print(f"    {key}  {header}", flush=True)
            if task == "npm" and run < runs:  # the last run's node_modules stay: npx runs the esbuild installed
                shutil.rmtree(os.path.join(proj, "node_modules"), ignore_errors=True)
                os.remove(os.path.join(proj, "package-lock.json")) if os.path.exists(os.path.join(proj, "package-lock.json")) else None
            if task == "clone":
                shutil.rmtree(os.path.join(proj, "clone"), ignore_errors=True)


if __name__ == "__main__":
    main()
