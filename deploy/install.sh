#!/bin/bash
# Install or update the 共享益站 station software on Raspberry Pi OS (Debian bookworm).
#
# Run from a checkout of the project, as root:
#     sudo deploy/install.sh              install or update a station
#     sudo deploy/install.sh --dry-run    print every step, change nothing
#     sudo deploy/install.sh --role central   the central server instead
#
# Safe to run again at any time: every step compares what is there with what should be there
# and prints "unchanged" when they agree, so a second run changes nothing. Config files in
# /etc/station/ are created from the examples only when missing and are never overwritten.
# See deploy/README.md for what to do before and after.

set -euo pipefail

usage() {
    cat <<'EOF'
usage: install.sh [options]

  --dry-run         print every step and what it would change; change nothing
  --role ROLE       station (default): daemon, kiosk, touch bridge, udev rules;
                    central: the central server only
  --root DIR        install into DIR instead of / (staging and tests). Implies --no-apt;
                    units are enabled with `systemctl --root` and nothing is started.
                    The virtual environment records paths under DIR, so a tree made this
                    way is for inspection, not for copying to a Pi.
  --no-apt          do not install Debian packages (they must be there already)
  --no-systemctl    do not enable, reload or restart anything with systemctl or udevadm
  --python PATH     interpreter for the virtual environment (default: python3)
  --with-web        also install the browser UI (`station ui --web`, textual-serve);
                    a station's kiosk does not need it
  -h, --help        show this help
EOF
}

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY="$SRC/deploy"
ROOT=""
ROLE=station
DRY_RUN=0
DO_APT=1
DO_SYSTEMCTL=1
PYTHON=python3
WITH_WEB=0
PREFIX=/opt/station
CHANGES=0
# Set by each ensure_* helper: 1 when it changed (or in a dry run would change) something.
LAST_CHANGED=0
UNITS_CHANGED=0
CHANGED_UNITS=()
CODE_CHANGED=0

die() {
    printf 'install.sh: %s\n' "$*" >&2
    exit 1
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --dry-run) DRY_RUN=1 ;;
        --role)
            [[ $# -ge 2 ]] || die "--role needs a value: station or central"
            ROLE="$2"
            shift
            ;;
        --root)
            [[ $# -ge 2 ]] || die "--root needs a directory"
            ROOT="$2"
            shift
            ;;
        --no-apt) DO_APT=0 ;;
        --with-web) WITH_WEB=1 ;;
        --no-systemctl) DO_SYSTEMCTL=0 ;;
        --python)
            [[ $# -ge 2 ]] || die "--python needs a path"
            PYTHON="$2"
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            die "unknown option: $1"
            ;;
    esac
    shift
done

case "$ROLE" in
    station | central) ;;
    *) die "--role must be station or central, not '$ROLE'" ;;
esac

if [[ -n "$ROOT" ]]; then
    [[ -d "$ROOT" ]] || die "--root $ROOT: no such directory; create it first"
    ROOT=$(cd "$ROOT" && pwd)
    [[ "$ROOT" != / ]] || ROOT=""
    DO_APT=0
fi
if [[ $DRY_RUN -eq 0 && $(id -u) -ne 0 ]]; then
    die "run as root (sudo deploy/install.sh), or add --dry-run to see the plan"
fi
command -v "$PYTHON" >/dev/null || die "no $PYTHON: install python3 first, or give --python"

# True when this script runs on a live system managed by systemd, so reloading udev or
# restarting journald means something. Not in a --root install, a chroot (building an image)
# or a container without systemd: there the new files take effect at the next boot.
live_system() {
    [[ -z "$ROOT" && $DO_SYSTEMCTL -eq 1 && -d /run/systemd/system ]] &&
        ! systemd-detect-virt --quiet --chroot 2>/dev/null
}

# --- output -------------------------------------------------------------------------------

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
unchanged() { printf '    unchanged: %s\n' "$*"; }
# Record a change; in a dry run say what would be done instead of doing it. Returns non-zero
# in a dry run so callers write `changing "..." || return 0` before doing it.
changing() {
    CHANGES=$((CHANGES + 1))
    LAST_CHANGED=1
    if [[ $DRY_RUN -eq 1 ]]; then
        printf '    would %s\n' "$*"
        return 1
    fi
    printf '    changed: %s\n' "$*"
}
run() {
    if [[ $DRY_RUN -eq 1 ]]; then
        printf '    would run: %s\n' "$*"
    else
        printf '    run: %s\n' "$*"
        "$@"
    fi
}

# --- users and ownership, read from the target's own files so --root works ---------------

# The numeric id of a user or group in the target's passwd or group file (empty when absent).
id_in() {
    local file="$1" name="$2"
    [[ -f "$ROOT/etc/$file" ]] || return 0
    awk -F: -v n="$name" '$1 == n { print $3; exit }' "$ROOT/etc/$file"
}

in_group() {
    local user="$1" group="$2"
    [[ -f "$ROOT/etc/group" ]] || return 1
    awk -F: -v g="$group" -v u="$user" '
        $1 == g { n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) found = 1 }
        END { exit !found }' "$ROOT/etc/group"
}

# "uid:gid" for OWNER:GROUP names; root is 0 even in an empty target root.
numeric_owner() {
    local user="${1%%:*}" group="${1##*:}" uid gid
    if [[ "$user" == root ]]; then uid=0; else uid=$(id_in passwd "$user"); fi
    if [[ "$group" == root ]]; then gid=0; else gid=$(id_in group "$group"); fi
    if [[ -z "$uid" || -z "$gid" ]]; then
        [[ $DRY_RUN -eq 1 ]] || die "user or group of $1 does not exist in $ROOT/etc"
        printf '%s' "$1"
        return
    fi
    printf '%s:%s' "$uid" "$gid"
}

# True when PATH has exactly this mode and owner.
has_attrs() {
    local path="$1" mode="$2" owner="$3"
    [[ $(stat -c '%a %u:%g' "$path") == "$mode $owner" ]]
}

# --- idempotent file operations -----------------------------------------------------------

# Install SRC as DEST (a path on the target) unless it is already identical.
ensure_file() {
    local src="$1" dest="$2" mode="$3" owner="${4:-root:root}" target ids
    LAST_CHANGED=0
    target="$ROOT$dest"
    [[ -f "$src" ]] || die "missing source file $src (is the checkout complete?)"
    ids=$(numeric_owner "$owner")
    if [[ -f "$target" ]] && cmp -s "$src" "$target" && has_attrs "$target" "$mode" "$ids"; then
        unchanged "$dest"
        return 0
    fi
    changing "install $dest (mode $mode, $owner)" || return 0
    install -D -m "$mode" -o "${ids%%:*}" -g "${ids##*:}" "$src" "$target" ||
        die "cannot install $target"
}

# Create DEST from SRC only when it does not exist: for files the technician edits.
ensure_config() {
    local src="$1" dest="$2" mode="$3" owner="$4" target
    LAST_CHANGED=0
    target="$ROOT$dest"
    if [[ -e "$target" ]]; then
        unchanged "$dest (exists; never overwritten)"
        return 0
    fi
    [[ -f "$src" ]] || die "missing example file $src"
    local ids
    ids=$(numeric_owner "$owner")
    changing "create $dest from ${src#"$SRC"/} (mode $mode, $owner)" || return 0
    install -D -m "$mode" -o "${ids%%:*}" -g "${ids##*:}" "$src" "$target" ||
        die "cannot create $target"
}

ensure_dir() {
    local dest="$1" mode="$2" owner="${3:-root:root}" target ids
    LAST_CHANGED=0
    target="$ROOT$dest"
    ids=$(numeric_owner "$owner")
    if [[ -d "$target" ]] && has_attrs "$target" "$mode" "$ids"; then
        unchanged "$dest/"
        return 0
    fi
    changing "create or fix $dest/ (mode $mode, $owner)" || return 0
    install -d -m "$mode" -o "${ids%%:*}" -g "${ids##*:}" "$target" ||
        die "cannot create $target"
}

# Give an existing file this mode and owner (its content is the technician's or a secret).
ensure_attrs() {
    local dest="$1" mode="$2" owner="$3" target ids
    LAST_CHANGED=0
    target="$ROOT$dest"
    [[ -f "$target" ]] || return 0
    ids=$(numeric_owner "$owner")
    if has_attrs "$target" "$mode" "$ids"; then
        unchanged "$dest (mode $mode, $owner)"
        return 0
    fi
    changing "fix $dest (mode $mode, $owner)" || return 0
    chown "$ids" "$target" || die "cannot fix $target"
    chmod "$mode" "$target" || die "cannot fix $target"
}

ensure_symlink() {
    local link_target="$1" dest="$2"
    LAST_CHANGED=0
    if [[ -L "$ROOT$dest" && $(readlink "$ROOT$dest") == "$link_target" ]]; then
        unchanged "$dest -> $link_target"
        return 0
    fi
    changing "link $dest -> $link_target" || return 0
    mkdir -p "$(dirname "$ROOT$dest")" || die "cannot create $(dirname "$ROOT$dest")"
    ln -sfn "$link_target" "$ROOT$dest" || die "cannot link $ROOT$dest"
}

# --- steps --------------------------------------------------------------------------------

station_packages() {
    local packages=(python3 python3-venv ca-certificates sqlite3 systemd-timesyncd)
    if [[ "$ROLE" == station ]]; then
        # libpam-systemd: the kiosk's logind session (PAMName=station-kiosk).
        # python3-evdev: the touch bridge runs with the system python3.
        packages+=(udev fake-hwclock libpam-systemd cage foot fonts-noto-cjk python3-evdev)
        # The kiosk's voice: espeak-ng renders the prompts, aplay (alsa-utils) plays them.
        packages+=(espeak-ng alsa-utils)
        # gpiozero's pin factory for every Pi model including the Pi 5; Raspberry Pi OS has
        # it, plain Debian does not (gpiozero then falls back to another factory).
        if apt-cache show python3-lgpio >/dev/null 2>&1; then packages+=(python3-lgpio); fi
    fi
    printf '%s\n' "${packages[@]}"
}

step_packages() {
    step "packages: Debian packages"
    note "wanted: $(station_packages | tr '\n' ' ')"
    if [[ $DO_APT -eq 0 ]]; then
        note "skipped (--no-apt or --root): the target must have them already"
        return
    fi
    local missing=() pkg
    while read -r pkg; do
        if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
            missing+=("$pkg")
        fi
    done < <(station_packages)
    if [[ ${#missing[@]} -eq 0 ]]; then
        unchanged "all installed"
        return
    fi
    changing "install ${missing[*]}" || return 0
    apt-get update || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" ||
        die "apt-get install failed"
}

step_users() {
    local conf="station.conf" users=(station station-kiosk)
    # The daemon reads what the kiosk reads (group station-kiosk); the kiosk is NOT in group
    # station, which alone may read the daemon's secrets in /etc/station/secrets/.
    local members=(station:dialout station:gpio station:station-kiosk station-kiosk:video
        station-kiosk:render station-kiosk:input station-kiosk:audio)
    if [[ "$ROLE" == central ]]; then
        conf="station-central.conf" users=(station-central) members=()
    fi
    step "users: system users and groups (systemd-sysusers)"
    ensure_file "$DEPLOY/sysusers/$conf" "/etc/sysusers.d/$conf" 644
    local missing=() user pair
    for user in "${users[@]}"; do
        [[ -n $(id_in passwd "$user") ]] || missing+=("user $user")
    done
    for pair in "${members[@]}"; do
        in_group "${pair%%:*}" "${pair##*:}" || missing+=("${pair%%:*} in group ${pair##*:}")
    done
    if [[ "$ROLE" == station ]] && in_group station-kiosk station; then
        # Stations installed before the secrets were split had the kiosk in group station.
        if changing "remove station-kiosk from group station (the daemon's secrets)"; then
            if [[ -n "$ROOT" ]]; then
                gpasswd -Q "$ROOT" -d station-kiosk station >/dev/null
            else
                gpasswd -d station-kiosk station >/dev/null
            fi || die "cannot remove station-kiosk from group station"
        fi
    fi
    if [[ ${#missing[@]} -eq 0 ]]; then
        unchanged "users ${users[*]} and their groups"
        return
    fi
    changing "create $(printf '%s, ' "${missing[@]}" | sed 's/, $//')" || return 0
    if [[ -n "$ROOT" ]]; then
        systemd-sysusers --root="$ROOT" "$conf" || die "systemd-sysusers failed"
    else
        systemd-sysusers "$conf" || die "systemd-sysusers failed"
    fi
}

# The files pip needs to build the project; their checksum tells whether the installed copy is
# current. Build products and caches in the checkout are left out.
source_files() {
    local item
    for item in pyproject.toml README.md LICENSE station drivers ui central wire launcher; do
        [[ -e "$SRC/$item" ]] && printf '%s\n' "$item"
    done
}

# The package extras this role installs: a station's Pi gets the base package only (no
# PostgreSQL driver, no plotly, no textual-serve); central gets its own.
role_extras() {
    local extras=()
    [[ "$ROLE" == central ]] && extras+=(central)
    [[ $WITH_WEB -eq 1 ]] && extras+=(web)
    local IFS=,
    printf '%s' "${extras[*]}"
}

# Covers the extras too: a change of role or of --with-web reinstalls.
source_digest() {
    local files
    mapfile -t files < <(source_files)
    {
        printf 'extras=%s\n' "$(role_extras)"
        tar -C "$SRC" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
            --exclude=__pycache__ --exclude='*.pyc' --exclude='*.egg-info' -cf - "${files[@]}"
    } | sha256sum | cut -d' ' -f1
}

step_venv() {
    local venv="$PREFIX/venv" stamp="$PREFIX/venv/.station-source-sha256" digest
    step "venv: the project in a virtual environment at $venv"
    ensure_dir "$PREFIX" 755
    if [[ -x "$ROOT$venv/bin/python" ]]; then
        unchanged "$venv (exists)"
    elif changing "create $venv with $PYTHON -m venv --system-site-packages"; then
        # System site packages: Raspberry Pi OS ships the GPIO backend (python3-lgpio) as a
        # Debian package built for its kernel.
        "$PYTHON" -m venv --system-site-packages "$ROOT$venv" || die "cannot create $venv"
    fi
    digest=$(source_digest)
    if [[ -f "$ROOT$stamp" && $(cat "$ROOT$stamp") == "$digest" ]]; then
        unchanged "project installed from this checkout (source sha256 ${digest:0:12})"
        return
    fi
    local extras target
    extras=$(role_extras)
    changing "pip install the project from $SRC${extras:+ with [$extras]} (source sha256 ${digest:0:12})" || return 0
    # Build from a clean copy of exactly the files the checksum covers, so the installed code
    # is what the stamp says and the checkout gets no build/ or egg-info/ from us.
    local stage files
    stage=$(mktemp -d)
    mapfile -t files < <(source_files)
    tar -C "$SRC" --exclude=__pycache__ --exclude='*.pyc' --exclude='*.egg-info' \
        -cf - "${files[@]}" | tar -C "$stage" -xf -
    # pip always reinstalls a project given as a directory; its dependencies are upgraded
    # only when the new version needs it.
    target="$stage${extras:+[$extras]}"
    if ! "$ROOT$venv/bin/python" -m pip install --no-input --upgrade "$target" >/dev/null; then
        rm -rf "$stage"
        die "pip install failed (see above); the station code is left as it was"
    fi
    rm -rf "$stage"
    printf '%s\n' "$digest" >"$ROOT$stamp"
    CODE_CHANGED=1
}

step_files() {
    step "files: helper programs and documentation under $PREFIX"
    ensure_file "$DEPLOY/README.md" "$PREFIX/doc/deploy-README.md" 644
    # `station doctor`, `station backup` and the rest on the technician's PATH.
    ensure_symlink "$PREFIX/venv/bin/station" /usr/local/bin/station
    [[ "$ROLE" == station ]] || return 0
    ensure_file "$DEPLOY/kiosk/touchpointer.py" "$PREFIX/libexec/touchpointer.py" 755
    [[ $LAST_CHANGED -eq 0 ]] || CODE_CHANGED=1
    local icons="$PREFIX/share/icons/station-blank" name
    ensure_file "$DEPLOY/kiosk/cursors/index.theme" "$icons/index.theme" 644
    ensure_file "$DEPLOY/kiosk/cursors/blank" "$icons/cursors/blank" 644
    # Every cursor name foot and cage ask for points at the one transparent image.
    for name in left_ptr default xterm text hand2 pointer top_side bottom_side left_side \
        right_side top_left_corner top_right_corner bottom_left_corner bottom_right_corner; do
        ensure_symlink blank "$icons/cursors/$name"
    done
    ensure_file "$DEPLOY/kiosk/pam-station-kiosk" /etc/pam.d/station-kiosk 644
    ensure_file "$DEPLOY/modules-load/station.conf" /etc/modules-load.d/station.conf 644
    step_releases
}

# The units start $PREFIX/releases/current/bin/station. `station update` points `current` at
# the release central targets (one environment per version beside it); until the first
# update it points at the environment this script builds. A `current` already pointing at a
# release is left alone: the station runs what central gave it (see docs/operations.md).
step_releases() {
    local current="$PREFIX/releases/current"
    ensure_dir "$PREFIX/releases" 755
    # Relative, so that it also resolves inside an install into --root.
    if [[ -L "$ROOT$current" && $(readlink "$ROOT$current") != ../venv ]]; then
        unchanged "$current -> $(readlink "$ROOT$current") (a release from central)"
        note "this checkout is in $PREFIX/venv; the station runs $(readlink "$ROOT$current")"
        return 0
    fi
    ensure_symlink ../venv "$current"
    [[ $LAST_CHANGED -eq 0 ]] || CODE_CHANGED=1
}

step_config() {
    step "config: /etc/station/"
    if [[ "$ROLE" == central ]]; then
        ensure_dir /etc/station 750 root:station-central
        ensure_config "$DEPLOY/central/central.env" /etc/station/central.env 640 \
            root:station-central
        return
    fi
    # station.toml holds no secret: group station-kiosk (the kiosk and the daemon) reads it.
    # The kiosk's token is in a file of its own beside it; the daemon's secrets (staff and
    # central tokens, the sync token, the fleet-wide phone_hash_key) are in secrets/, which
    # only group station (the daemon alone) may read. split-secrets.py moves any secret
    # written inline in station.toml (the example's, or an older station's) into those files.
    ensure_dir /etc/station 750 root:station-kiosk
    ensure_config "$DEPLOY/station.example.toml" /etc/station/station.toml 640 root:station-kiosk
    ensure_attrs /etc/station/station.toml 640 root:station-kiosk
    ensure_dir /etc/station/secrets 750 root:station
    split_secrets
    ensure_attrs /etc/station/kiosk.token 640 root:station-kiosk
    local file
    for file in "$ROOT"/etc/station/secrets/*; do
        [[ -f "$file" ]] && ensure_attrs "${file#"$ROOT"}" 640 root:station
    done
    ensure_dir /etc/station/kiosk 750 root:station-kiosk
    ensure_config "$DEPLOY/kiosk/foot.ini" /etc/station/kiosk/foot.ini 640 root:station-kiosk
    ensure_attrs /etc/station/kiosk/foot.ini 640 root:station-kiosk
}

# Move secrets written inline in station.toml into their own files (deploy/split-secrets.py
# says what it moved, or nothing).
split_secrets() {
    local config="$ROOT/etc/station/station.toml" plan line
    local args=(--root "$ROOT")
    [[ -f "$config" ]] || args+=(--read "$DEPLOY/station.example.toml")
    plan=$("$PYTHON" "$DEPLOY/split-secrets.py" "${args[@]}" --dry-run) ||
        die "cannot plan moving the secrets out of station.toml (see above)"
    if [[ -z "$plan" ]]; then
        unchanged "no secret written inline in /etc/station/station.toml"
        return 0
    fi
    while read -r line; do
        CHANGES=$((CHANGES + 1))
        if [[ $DRY_RUN -eq 1 ]]; then printf '    would %s\n' "$line"; fi
    done <<<"$plan"
    [[ $DRY_RUN -eq 0 ]] || return 0
    local ids_daemon ids_kiosk
    ids_daemon=$(numeric_owner root:station)
    ids_kiosk=$(numeric_owner root:station-kiosk)
    "$PYTHON" "$DEPLOY/split-secrets.py" --root "$ROOT" --daemon-gid "${ids_daemon##*:}" \
        --kiosk-gid "${ids_kiosk##*:}" | sed 's/^/    changed: /' ||
        die "cannot move the secrets out of station.toml (see above)"
}

step_data() {
    step "data: /var/lib/"
    if [[ "$ROLE" == central ]]; then
        ensure_dir /var/lib/station-central 700 station-central:station-central
        return
    fi
    ensure_dir /var/lib/station 700 station:station
    ensure_dir /var/lib/station-kiosk 700 station-kiosk:station-kiosk
}

step_udev() {
    [[ "$ROLE" == station ]] || return 0
    step "udev: stable names /dev/station-locks, /dev/station-radar, /dev/input/station-touch"
    ensure_file "$DEPLOY/udev/99-station.rules" /etc/udev/rules.d/99-station.rules 644
    if [[ $LAST_CHANGED -eq 1 ]]; then
        if live_system; then
            run udevadm control --reload
            run udevadm trigger --action=change --subsystem-match=tty \
                --subsystem-match=gpio --subsystem-match=input
        fi
    fi
}

step_journald() {
    step "journald: journal size limits"
    ensure_file "$DEPLOY/journald/station.conf" /etc/systemd/journald.conf.d/station.conf 644
    if [[ $LAST_CHANGED -eq 1 ]]; then
        if live_system; then
            run systemctl restart systemd-journald.service
        fi
    fi
}

role_units() {
    if [[ "$ROLE" == central ]]; then
        printf '%s\n' station-central.service
    else
        printf '%s\n' station.service station-kiosk.service station-touch.service \
            station-backup.service station-backup.timer \
            station-update.service station-update.timer
    fi
}

step_units() {
    step "units: systemd units in /etc/systemd/system/"
    local unit
    while read -r unit; do
        ensure_file "$DEPLOY/systemd/$unit" "/etc/systemd/system/$unit" 644
        if [[ $LAST_CHANGED -eq 1 ]]; then
            UNITS_CHANGED=1
            CHANGED_UNITS+=("$unit")
        fi
    done < <(role_units)
}

# station-touch.service has no [Install] section: udev starts it when a touchscreen appears;
# station-backup.service is started by its timer.
enabled_units() {
    role_units | grep -v -e '^station-touch\.service$' -e '^station-backup\.service$' \
        -e '^station-update\.service$'
}

systemctl_target() {
    if [[ -n "$ROOT" ]]; then
        systemctl --root="$ROOT" "$@"
    else
        systemctl "$@"
    fi
}

step_enable() {
    step "enable: start at boot"
    if [[ $DO_SYSTEMCTL -eq 0 ]]; then
        note "skipped (--no-systemctl)"
        return
    fi
    if [[ $UNITS_CHANGED -eq 1 ]] && live_system; then
        run systemctl daemon-reload
    fi
    local unit state
    while read -r unit; do
        state=$(systemctl_target is-enabled "$unit" 2>/dev/null || true)
        if [[ "$state" == enabled && " ${CHANGED_UNITS[*]} " == *" $unit "* ]]; then
            # The new file may name another target in [Install]: move the links with it.
            if [[ $DRY_RUN -eq 1 ]]; then
                note "would re-enable $unit (its file changed)"
            else
                note "re-enable $unit (its file changed)"
                systemctl_target reenable "$unit" || die "cannot re-enable $unit"
            fi
        elif [[ "$state" == enabled ]]; then
            unchanged "$unit enabled"
        elif changing "enable $unit (was: ${state:-not installed})"; then
            systemctl_target enable "$unit" || die "cannot enable $unit"
        fi
    done < <(enabled_units)
    if [[ "$ROLE" == station ]]; then
        # tty1 belongs to the kiosk. Its unit conflicts with the login prompt there, but with
        # both enabled they would race at every boot; a technician still gets a login on tty2.
        state=$(systemctl_target is-enabled getty@tty1.service 2>/dev/null || true)
        if [[ "$state" != enabled ]]; then
            unchanged "getty@tty1.service not enabled (${state:-not installed})"
        elif changing "disable getty@tty1.service (tty1 is the kiosk's screen)"; then
            systemctl_target disable getty@tty1.service || die "cannot disable getty@tty1"
        fi
    fi
    # Running services pick up new code or units now; stopped ones are left for the technician
    # to start once the config is edited.
    if [[ $CODE_CHANGED -eq 1 || $UNITS_CHANGED -eq 1 ]] && live_system; then
        local units
        mapfile -t units < <(role_units | grep -v -e '^station-backup\.' -e '^station-update\.')
        run systemctl try-restart "${units[@]}"
    fi
}

main() {
    printf 'install.sh: role %s, source %s, target %s%s\n' "$ROLE" "$SRC" "${ROOT:-/}" \
        "$([[ $DRY_RUN -eq 1 ]] && printf ' (dry run: nothing is changed)')"
    step_packages
    step_users
    step_venv
    step_files
    step_config
    step_data
    step_udev
    step_journald
    step_units
    step_enable
    if [[ $CHANGES -eq 0 ]]; then
        printf 'install.sh: nothing changed\n'
    elif [[ $DRY_RUN -eq 1 ]]; then
        printf 'install.sh: dry run: %d change(s) would be made\n' "$CHANGES"
    else
        printf 'install.sh: %d change(s) made\n' "$CHANGES"
        if [[ "$ROLE" == station ]]; then
            printf 'next: edit /etc/station/station.toml, run "station doctor", then\n'
            printf '      systemctl start station.service station-kiosk.service\n'
        else
            printf 'next: check /etc/station/central.env, then\n'
            printf '      systemctl start station-central.service\n'
        fi
    fi
}

main
