"""What the podman tests (test_container.py, test_deb_systemd.py) share: the host set-up of
scripts/podman-host.sh, podman itself with its output kept for the failure message, and a
bounded wait."""
import os, subprocess, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def setup(state_dir):
    """The host quirks handled (containers.conf limits, hybrid cgroups); podman then reads the
    containers.conf written in state_dir."""
    subprocess.run(["bash", "-c", 'source scripts/podman-host.sh && podman_host_setup "$1"', "_", state_dir],
                   cwd=ROOT, check=True)
    os.environ["CONTAINERS_CONF"] = os.path.join(state_dir, "containers.conf")


def podman(*args, check=True, timeout=600):
    res = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"podman {' '.join(args[:3])}: {res.returncode}\n{res.stdout[-2000:]}{res.stderr[-2000:]}")
    return res


def wait_until(pred, what, timeout, step=0.5):
    """pred() until it is truthy (its value is returned) or `timeout` s pass; an exception from
    pred counts as not yet."""
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = pred()
            if last:
                return last
        except (OSError, ValueError, KeyError, AssertionError) as e:
            last = e
        time.sleep(step)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")
