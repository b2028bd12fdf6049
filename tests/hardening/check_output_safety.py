#!/usr/bin/env python3
# goprof record's output cannot be redirected by another local user (issue 15, item 1).
#
# Run as root (goprof's usual case); the attacker is an unprivileged user ("nobody", or a
# user the test creates): every file and link the attacker plants is created by a child
# process that has dropped to that user. goprof then records into the directory, and the
# test checks that nothing outside the output directory changed (a snapshot of every
# path, mode, owner and content under the test's root, the victims included) and that
# goprof said why it refused, naming the directory.
#
#   1. -o names a directory that belongs to the attacker, full of links to a root-only
#      file (cpu.svg, cpu.folded, cpu.pb.gz, threads.tsv, events.jsonl): refused.
#   2. -o names a world-writable directory (mode 1777): refused.
#   3. -o names the attacker's symlink to a root directory, or a path through it:
#      refused (root's own links on the path are followed).
#   4. -o names a root directory in which links owned by the attacker already sit under
#      every output name: written, each link replaced by a regular file, victim intact.
#   5. --interval --keep rotation with a planted windows/000001 link to a root-only
#      directory: the link is removed, never followed; the files it points at survive.
#   6. DIR/windows belongs to the attacker: refused.
#   7. (not an attack) a second --interval run into the same directory continues the
#      numbering, so DIR/latest never names an older window than one left on disk.
#
# usage: check_output_safety.py GOPROF FIXTURE
# Not root: skipped (exit 77), except under CI=true, where that is a failure.
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile

# Absolute: case 7 runs goprof from another working directory.
goprof, fixture = (os.path.abspath(a) for a in sys.argv[1:3])
OUTPUTS = ["cpu.svg", "cpu.folded", "cpu.pb.gz", "threads.tsv", "events.jsonl"]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


if os.geteuid() != 0:
    if os.environ.get("CI") == "true":
        fail("CI=true: this test must run as root (it plays an unprivileged attacker)")
    print("SKIP: needs root to play an unprivileged attacker")
    sys.exit(77)

try:
    attacker = pwd.getpwnam("nobody")
except KeyError:
    subprocess.run(["useradd", "--system", "--no-create-home", "goprof-attacker"], check=True)
    attacker = pwd.getpwnam("goprof-attacker")
UID, GID = attacker.pw_uid, attacker.pw_gid


def as_attacker(fn):
    """Runs fn() in a child that has dropped to the attacker's user."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(GID, GID, GID)
            os.setresuid(UID, UID, UID)
            fn()
            os._exit(0)
        except BaseException as e:  # noqa: BLE001 - report anything from the child
            print("attacker step failed:", e)
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        fail("the attacker's setup failed")


def snapshot(root, skip):
    """Every path under root except skip: type, mode, owner, size, content hash, link."""
    snap = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == skip or dirpath.startswith(skip + "/"):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            if p == skip:
                continue
            st = os.lstat(p)
            entry = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_size)
            if stat.S_ISLNK(st.st_mode):
                entry += (os.readlink(p),)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    entry += (hashlib.sha256(f.read()).hexdigest(),)
            snap[p] = entry
    return snap


def record(out, *extra, seconds="1", cwd=None):
    cmd = [goprof, "record", "-F", "49", "-d", seconds, "-o", out, *extra, "--", fixture, "2", "10"]
    run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         timeout=60, cwd=cwd)
    return run.returncode, run.stdout, run.stderr


def check_unchanged(before, root, out, what):
    after = snapshot(root, out)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    if changed:
        fail("%s: changed outside the output directory: %s" % (what, changed))


with tempfile.TemporaryDirectory(prefix="goprof-attack-") as root:
    os.chmod(root, 0o755)
    # The victims: a root-only file and a root-only directory of files.
    secret = os.path.join(root, "secret")
    os.mkdir(secret, 0o700)
    victim = os.path.join(secret, "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.chmod(victim, 0o600)
    vdir = os.path.join(secret, "keep")
    os.mkdir(vdir, 0o700)
    for name in ("a", "b", "cpu.pb.gz"):
        with open(os.path.join(vdir, name), "w") as f:
            f.write("keep me\n")
    # The attacker's home: a directory of theirs next to the victims.
    home = os.path.join(root, "home")
    os.mkdir(home, 0o755)
    os.chown(home, UID, GID)

    # 1. The attacker's own directory, a link under every output name.
    evil = os.path.join(home, "out")

    def plant_dir():
        os.mkdir(evil, 0o755)
        for name in OUTPUTS:
            os.symlink(victim, os.path.join(evil, name))
    as_attacker(plant_dir)
    before = snapshot(root, "/nonexistent")
    rc, out, err = record(evil, "--gc")
    if rc == 0 or "refusing output directory %s" % evil not in err or "belongs to" not in err:
        fail("1: attacker's directory accepted (rc %d): %s" % (rc, err))
    check_unchanged(before, root, "/nonexistent", "1")
    print("1 ok:", err.strip())

    # 2. A world-writable directory (sticky, like /tmp).
    shared = os.path.join(root, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o1777)
    before = snapshot(root, "/nonexistent")
    rc, out, err = record(shared)
    if rc == 0 or "refusing output directory %s" % shared not in err or "writable" not in err:
        fail("2: world-writable directory accepted (rc %d): %s" % (rc, err))
    check_unchanged(before, root, "/nonexistent", "2")
    print("2 ok:", err.strip())

    # 3. -o names the attacker's link to a root directory.
    rootdir = os.path.join(root, "rootdir")
    os.mkdir(rootdir, 0o755)
    alink = os.path.join(home, "link")
    as_attacker(lambda: os.symlink(rootdir, alink))
    before = snapshot(root, "/nonexistent")
    rc, out, err = record(alink)
    if rc == 0 or "symbolic link" not in err or alink not in err:
        fail("3: a link as the output directory was followed (rc %d): %s" % (rc, err))
    check_unchanged(before, root, "/nonexistent", "3")
    print("3 ok:", err.strip())

    # 3b. The attacker's link higher up the path (home/link/out, link -> a root
    #     directory): the output directory would land in the root directory. Refused;
    #     a link of root's on the way is followed (the directory is made where it points).
    before = snapshot(root, "/nonexistent")
    rc, out, err = record(os.path.join(alink, "out"))
    if rc == 0 or "a symbolic link of uid %d" % UID not in err:
        fail("3b: the attacker's link on the path was followed (rc %d): %s" % (rc, err))
    check_unchanged(before, root, "/nonexistent", "3b")
    if os.path.exists(os.path.join(rootdir, "out")):
        fail("3b: %s/out was created through the attacker's link" % rootdir)
    print("3b ok:", err.strip())
    rlink = os.path.join(root, "rootlink")
    os.symlink(".", rlink)  # root's own link: case 4 goes through it

    # 4. Our own directory, but with the attacker's links already under every output name
    #    (made group-writable for the attacker to plant them, then locked again).
    mine = os.path.join(root, "mine")
    os.mkdir(mine, 0o755)
    os.chown(mine, 0, GID)
    os.chmod(mine, 0o775)

    def plant_links():
        for name in OUTPUTS:
            os.symlink(victim, os.path.join(mine, name))
    as_attacker(plant_links)
    os.chmod(mine, 0o755)
    before = snapshot(root, mine)
    rc, out, err = record(os.path.join(rlink, "mine"), "--gc")
    if rc != 0:
        fail("4: goprof record failed (rc %d): %s%s" % (rc, out, err))
    check_unchanged(before, root, mine, "4")
    for name in OUTPUTS:
        st = os.lstat(os.path.join(mine, name))
        if not stat.S_ISREG(st.st_mode) or st.st_uid != 0 or st.st_size == 0:
            fail("4: %s is not a new file of ours: mode %o uid %d size %d" %
                 (name, st.st_mode, st.st_uid, st.st_size))
    leftovers = [n for n in os.listdir(mine) if n.startswith(".")]
    if leftovers:
        fail("4: temporary files left behind: %s" % leftovers)
    print("4 ok: every planted link replaced by a regular file")

    # 5. Rotation: windows/000001 planted as a link to a root-only directory of files.
    rot = os.path.join(root, "rot")
    os.mkdir(rot, 0o755)
    os.mkdir(os.path.join(rot, "windows"), 0o755)
    os.chown(os.path.join(rot, "windows"), 0, GID)
    os.chmod(os.path.join(rot, "windows"), 0o775)
    as_attacker(lambda: os.symlink(vdir, os.path.join(rot, "windows", "000001")))
    os.chmod(os.path.join(rot, "windows"), 0o755)
    before = snapshot(root, rot)
    rc, out, err = record(rot, "--interval", "0.3", "--keep", "2", seconds="1.6")
    check_unchanged(before, root, rot, "5")
    if sorted(os.listdir(vdir)) != ["a", "b", "cpu.pb.gz"]:
        fail("5: files removed through the planted link: %s" % os.listdir(vdir))
    if os.path.lexists(os.path.join(rot, "windows", "000001")):
        fail("5: the planted link is still there after rotation")
    if "%s/windows/000001" % rot not in err or "symbolic link" not in err:
        fail("5: the planted window link was not reported: %s" % err)
    kept = sorted(os.listdir(os.path.join(rot, "windows")))
    if len(kept) != 2 or not all(os.path.isdir(os.path.join(rot, "windows", k)) and
                                 not os.path.islink(os.path.join(rot, "windows", k))
                                 for k in kept):
        fail("5: windows on disk: %s" % kept)
    print("5 ok: planted window link removed, never followed; kept %s" % kept)

    # 6. DIR/windows belongs to the attacker.
    rot2 = os.path.join(root, "rot2")
    os.mkdir(rot2, 0o755)
    os.mkdir(os.path.join(rot2, "windows"), 0o755)
    os.chown(os.path.join(rot2, "windows"), UID, GID)
    before = snapshot(root, "/nonexistent")
    rc, out, err = record(rot2, "--interval", "0.3")
    if rc == 0 or "refusing output directory %s/windows" % rot2 not in err:
        fail("6: the attacker's windows directory accepted (rc %d): %s" % (rc, err))
    check_unchanged(before, root, "/nonexistent", "6")
    print("6 ok:", err.strip())

    # 7. A second --interval run into the same directory (issue 15, item 5): numbering
    #    goes on after the first run's windows, latest names the newest window on disk,
    #    the index has one row per window in order, and --keep counts the old run's too.
    again = os.path.join(root, "again")
    for run in (1, 2):  # relative paths, "./again" and "again/"
        rc, out, err = record("./again" if run == 1 else "again/", "--interval", "0.3",
                              "--keep", "3", seconds="1.2", cwd=root)
        if rc != 0:
            fail("7: run %d failed (rc %d): %s%s" % (run, rc, out, err))
    with open(os.path.join(again, "windows.tsv")) as f:
        rows = [l.split("\t") for l in f.read().splitlines()]
    seqs = [int(r[0]) for r in rows[1:]]
    kept = sorted(os.listdir(os.path.join(again, "windows")))
    if rows[0][0] != "window" or seqs != list(range(1, len(seqs) + 1)):
        fail("7: windows.tsv numbering after two runs: %s" % seqs)
    if kept != ["%06d" % n for n in seqs[-3:]]:
        fail("7: windows on disk %s, want the newest 3 of %s" % (kept, seqs))
    if os.readlink(os.path.join(again, "latest")) != "windows/" + kept[-1]:
        fail("7: latest -> %s, newest window %s" % (os.readlink(os.path.join(again, "latest")),
                                                   kept[-1]))
    print("7 ok: two runs, windows %s, kept %s" % (seqs, kept))
    shutil.rmtree(root, ignore_errors=True)
print("ok")
