# Sourced by the container scripts (make image, make test-container, scripts/deploy.sh): handles
# two quirks of this kind of host before any podman command, and does nothing where they are
# absent. Idempotent.
#   podman_host_setup STATE_DIR
# 1. crun cannot raise rlimits here (setrlimit RLIMIT_NOFILE/NPROC: Operation not permitted) and
#    podman's defaults ask for more than the host's hard limits: a containers.conf with limits the
#    host allows goes to podman through CONTAINERS_CONF.
# 2. On a hybrid cgroup host (v1 controllers, a cgroup2 at /sys/fs/cgroup/unified), crun refuses to
#    start while a controller sits in the v2 hierarchy ("cgroups in hybrid mode not supported"):
#    each such controller (hugetlb, here) is mounted as v1, which takes it out of v2.

podman_host_setup() {
    local dir=$1
    mkdir -p "$dir"
    local nofile
    nofile=$(ulimit -Hn)
    if [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; then nofile=1048576; fi
    # nproc: 4096 (per uid inside the container) is plenty for a worker and below what crun may set.
    cat >"$dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=4096:4096"]
CONF
    export CONTAINERS_CONF
    CONTAINERS_CONF=$(cd "$dir" && pwd)/containers.conf
    local unified=/sys/fs/cgroup/unified/cgroup.controllers
    if [ -r "$unified" ] && [ "$(stat -fc %T /sys/fs/cgroup)" = tmpfs ]; then
        local c
        for c in $(cat "$unified"); do
            if [ "$(id -u)" -ne 0 ]; then
                echo "podman-host: the $c cgroup controller must be mounted as v1 (root): mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c" >&2
                return 1
            fi
            mkdir -p "/sys/fs/cgroup/$c"
            mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c"
            echo "podman-host: mounted the $c cgroup controller as v1 (crun refuses hybrid cgroups with controllers in v2)"
        done
    fi
}
