#!/usr/bin/env bash
# Deploys one f0mesh worker on this host, from the Debian package or the container image, with
# the flags a worker on a real network needs, and checks that it registered with its beacon.
# Run as root on the target host (copy the .deb or load the image there first).
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/deploy.sh --id ID --advertise URL [options]

Runs one f0mesh worker on this host and registers it with a beacon.

Required:
  --id ID               this peer's id ([A-Za-z0-9._-], e.g. fz-kuwait)
  --advertise URL       the URL peers reach this worker's API at (http[s]://HOST:PORT)

Where the worker comes from:
  --from package|image  the Debian package with its systemd unit (default), or the container image
  --deb FILE            install this f0mesh_*.deb first (package; default: use what is installed)
  --image REF           the image to run (image; default localhost/f0mesh:latest)

Worker flags:
  --listen HOST:PORT    the API's address (default 0.0.0.0:7000)
  --beacon URL          a beacon worker to register with and learn peers from
  --ice-ports MIN-MAX   the UDP/TCP port range ICE may use (open it in the firewall)
  --ice-address IP      host-candidate address (repeatable; default all interfaces)
  --tls-cert FILE --tls-key FILE   serve HTTPS (copied to /etc/f0mesh/tls, or mounted)
  --turn URL            TURN server ([turn:|turns:]HOST:PORT, see f0mesh worker --help)
  --turn-secret-file F  TURN REST shared secret (copied to /etc/f0mesh/turn.secret, or mounted)
  --allowlist FILE      peer ids allowed to register and dial (default: open registration)
  --region R, --geo LAT,LON   labels for the dashboard

Other:
  --name NAME           the container's name (image; default f0mesh-ID)
  --timeout S           how long to wait for /healthz and the registration (default 60)
  --dry-run             print what would be done, change nothing
  -h, --help            this text

Package: writes /etc/f0mesh/worker.ini (the old one kept as worker.ini.bak), then
`systemctl enable --now f0mesh` (restart if it runs); without systemd it says how to start it.
Image: `podman run -d --network host --restart unless-stopped` with a volume f0mesh-ID-data for
/var/lib/f0mesh (host networking: ICE host candidates must be this host's addresses).
Exit status: 0 when the worker answers /healthz and, given --beacon, the beacon lists it.
EOF
}

die() {
    echo "deploy: $*" >&2
    exit 2
}

from=package deb="" image=localhost/f0mesh:latest name="" listen=0.0.0.0:7000 advertise="" id=""
beacon="" ice_ports="" tls_cert="" tls_key="" turn="" turn_secret="" allowlist="" region="" geo=""
timeout=60 dry=0
ice_addresses=()
while [ $# -gt 0 ]; do
    case "$1" in
    --id) id=${2:?}; shift 2 ;;
    --advertise) advertise=${2:?}; shift 2 ;;
    --from) from=${2:?}; shift 2 ;;
    --deb) deb=${2:?}; shift 2 ;;
    --image) image=${2:?}; shift 2 ;;
    --name) name=${2:?}; shift 2 ;;
    --listen) listen=${2:?}; shift 2 ;;
    --beacon) beacon=${2:?}; shift 2 ;;
    --ice-ports) ice_ports=${2:?}; shift 2 ;;
    --ice-address) ice_addresses+=("${2:?}"); shift 2 ;;
    --tls-cert) tls_cert=${2:?}; shift 2 ;;
    --tls-key) tls_key=${2:?}; shift 2 ;;
    --turn) turn=${2:?}; shift 2 ;;
    --turn-secret-file) turn_secret=${2:?}; shift 2 ;;
    --allowlist) allowlist=${2:?}; shift 2 ;;
    --region) region=${2:?}; shift 2 ;;
    --geo) geo=${2:?}; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    --dry-run) dry=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
    esac
done

[ -n "$id" ] || die "--id is required (this peer's id)"
[[ $id =~ ^[A-Za-z0-9._-]{1,64}$ ]] || die "--id '$id': letters, digits, '.', '_', '-' only, 64 at most"
[ -n "$advertise" ] || die "--advertise is required: the URL peers reach this worker's API at, e.g. http://192.0.2.10:7000"
[[ $advertise =~ ^https?://[^/?#@\ ]+$ ]] || die "--advertise '$advertise': scheme, host and port only, e.g. https://mesh.example.org:7000"
case "$from" in package | image) ;; *) die "--from must be 'package' or 'image'" ;; esac
[[ $listen =~ ^.+:[0-9]{1,5}$ ]] || die "--listen '$listen': HOST:PORT"
port=${listen##*:}
ice_min="" ice_max=""
if [ -n "$ice_ports" ]; then
    [[ $ice_ports =~ ^([0-9]{1,5})-([0-9]{1,5})$ ]] || die "--ice-ports '$ice_ports': MIN-MAX, e.g. 50000-50100"
    ice_min=${BASH_REMATCH[1]} ice_max=${BASH_REMATCH[2]}
    [ "$ice_min" -ge 1 ] && [ "$ice_max" -le 65535 ] && [ "$ice_min" -le "$ice_max" ] || die "--ice-ports '$ice_ports': 1 <= MIN <= MAX <= 65535"
fi
{ [ -n "$tls_cert" ] && [ -n "$tls_key" ]; } || { [ -z "$tls_cert" ] && [ -z "$tls_key" ]; } || die "--tls-cert and --tls-key go together"
for f in "$tls_cert" "$tls_key" "$turn_secret" "$allowlist" "$deb"; do
    [ -z "$f" ] || [ -r "$f" ] || die "cannot read '$f'"
done
[ "$(id -u)" -eq 0 ] || [ "$dry" = 1 ] || die "run as root (it installs a service or runs a container)"

run() {
    echo "+ $*"
    [ "$dry" = 1 ] || "$@"
}

# The worker's settings as F0_* variables (every worker option has one: f0mesh worker --help).
settings=(F0_INSTANCE_ID="$id" F0_LISTEN="$listen" F0_ADVERTISE="$advertise")
[ -n "$beacon" ] && settings+=(F0_BEACON="$beacon")
[ -n "$ice_min" ] && settings+=(F0_ICE_PORT_MIN="$ice_min" F0_ICE_PORT_MAX="$ice_max")
[ ${#ice_addresses[@]} -gt 0 ] && settings+=(F0_ICE_ADDRESSES="$(IFS=,; echo "${ice_addresses[*]}")")
[ -n "$turn" ] && settings+=(F0_TURN="$turn")
[ -n "$region" ] && settings+=(F0_REGION="$region")
[ -n "$geo" ] && settings+=(F0_GEO="$geo")
if [ -z "$allowlist" ]; then settings+=(F0_OPEN_REGISTRATION=true); fi

scheme=${advertise%%://*}
local_url="$scheme://127.0.0.1:$port"
case "${listen%:*}" in 0.0.0.0 | '[::]' | '') ;; *) local_url="$scheme://${listen%:*}:$port" ;; esac

if [ "$from" = package ]; then
    if [ -n "$deb" ]; then
        run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$(realpath "$deb")"
    elif [ "$dry" = 0 ] && ! command -v f0mesh >/dev/null; then
        die "f0mesh is not installed: give --deb FILE (make deb builds it)"
    fi
    etc=/etc/f0mesh
    run install -d -o root -g f0mesh -m 0750 "$etc"
    if [ -n "$tls_cert" ]; then
        run install -d -o root -g f0mesh -m 0750 "$etc/tls"
        run install -o root -g f0mesh -m 0640 "$tls_cert" "$etc/tls/cert.pem"
        run install -o root -g f0mesh -m 0640 "$tls_key" "$etc/tls/key.pem"
        settings+=(F0_TLS_CERT="$etc/tls/cert.pem" F0_TLS_KEY="$etc/tls/key.pem")
    fi
    if [ -n "$turn_secret" ]; then
        run install -o root -g f0mesh -m 0640 "$turn_secret" "$etc/turn.secret"
        settings+=(F0_TURN_SECRET_FILE="$etc/turn.secret")
    fi
    if [ -n "$allowlist" ]; then
        run install -o root -g f0mesh -m 0640 "$allowlist" "$etc/allowlist"
        settings+=(F0_ALLOWLIST="$etc/allowlist")
    fi
    # worker.ini: 'key = value' lines named like the long options (F0_ICE_PORT_MIN -> ice-port-min).
    ini=$(
        echo "# Written by scripts/deploy.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); see f0mesh worker --help."
        echo "data-dir = /var/lib/f0mesh"
        for s in "${settings[@]}"; do
            key=${s%%=*} value=${s#*=}
            key=${key#F0_} key=${key,,} key=${key//_/-}
            case "$key" in instance-id) key=id ;; ice-addresses) key=ice-address ;; esac
            echo "$key = $value"
        done
    )
    echo "+ write $etc/worker.ini:"
    echo "$ini" | sed 's/^/    /'
    if [ "$dry" = 0 ]; then
        [ -e "$etc/worker.ini" ] && cp -p "$etc/worker.ini" "$etc/worker.ini.bak"
        printf '%s\n' "$ini" >"$etc/worker.ini.new"
        chown root:f0mesh "$etc/worker.ini.new"
        chmod 0640 "$etc/worker.ini.new"
        mv "$etc/worker.ini.new" "$etc/worker.ini"
    fi
    if [ -d /run/systemd/system ]; then
        run systemctl enable f0mesh.service
        run systemctl restart f0mesh.service
    else
        echo "deploy: no systemd running here; start the worker as the unit does:"
        echo "    runuser -u f0mesh -- f0mesh worker --config /etc/f0mesh/worker.ini"
        [ "$dry" = 1 ] || exit 0
    fi
else
    command -v podman >/dev/null || die "podman is not installed (apt-get install podman, or make image)"
    here=$(cd "$(dirname "$0")" && pwd)
    if [ "$dry" = 0 ] && [ -r "$here/podman-host.sh" ]; then
        # shellcheck source=podman-host.sh
        source "$here/podman-host.sh"
        podman_host_setup "${F0_PODMAN_STATE:-/var/lib/f0mesh-deploy}"
    fi
    name=${name:-f0mesh-$id}
    args=(run -d --name "$name" --network host --restart unless-stopped -v "$name-data:/var/lib/f0mesh")
    if [ -n "$tls_cert" ]; then
        args+=(-v "$(realpath "$tls_cert"):/etc/f0mesh/tls/cert.pem:ro" -v "$(realpath "$tls_key"):/etc/f0mesh/tls/key.pem:ro")
        settings+=(F0_TLS_CERT=/etc/f0mesh/tls/cert.pem F0_TLS_KEY=/etc/f0mesh/tls/key.pem)
    fi
    if [ -n "$turn_secret" ]; then
        args+=(-v "$(realpath "$turn_secret"):/etc/f0mesh/turn.secret:ro")
        settings+=(F0_TURN_SECRET_FILE=/etc/f0mesh/turn.secret)
    fi
    if [ -n "$allowlist" ]; then
        args+=(-v "$(realpath "$allowlist"):/etc/f0mesh/allowlist:ro")
        settings+=(F0_ALLOWLIST=/etc/f0mesh/allowlist)
    fi
    for s in "${settings[@]}" F0_WORKER_URL="$local_url"; do args+=(-e "$s"); done
    if [ "$dry" = 0 ] && podman container exists "$name"; then
        run podman rm -f -t 10 "$name"
    fi
    run podman "${args[@]}" "$image"
fi

[ "$dry" = 1 ] && exit 0

# Bounded waits: the worker answers, then (given a beacon) the beacon lists it.
check() {
    if [ "$from" = image ]; then
        podman exec "$name" /usr/bin/f0mesh health --worker "$local_url" >/dev/null 2>&1
    else
        f0mesh health --worker "$local_url" >/dev/null 2>&1
    fi
}
end=$(($(date +%s) + timeout))
until check; do
    if [ "$(date +%s)" -ge "$end" ]; then
        echo "deploy: the worker does not answer $local_url/healthz after ${timeout} s; its log:" >&2
        if [ "$from" = image ]; then podman logs --tail 30 "$name" >&2 || true; else journalctl -u f0mesh -n 30 --no-pager >&2 || true; fi
        exit 1
    fi
    sleep 1
done
echo "deploy: $id answers at $local_url/healthz (advertised as $advertise)"
if [ -n "$beacon" ]; then
    f0=(f0mesh)
    [ "$from" = image ] && f0=(podman exec "$name" /usr/bin/f0mesh)
    until "${f0[@]}" peers --worker "$beacon" 2>/dev/null | grep -q "\"id\": \"$id\""; do
        if [ "$(date +%s)" -ge "$end" ]; then
            echo "deploy: the beacon $beacon does not list $id after ${timeout} s (is $id allowed there? is $advertise reachable from it?)" >&2
            exit 1
        fi
        sleep 1
    done
    echo "deploy: registered with the beacon $beacon"
fi
