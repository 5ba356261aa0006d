#!/usr/bin/env bash
# Checks the two desktop integrations that unit tests cannot reach, as a
# user meets them on a Linux desktop. The window runs under Xvfb with a D-Bus
# session and the GTK desktop portal (which rfd's xdg-portal backend talks to).
#
# 1. File dialog: Ctrl+O opens the portal's file chooser, a path is typed
#    into it and Enter pressed; the window's title must then name the chosen
#    notebook.
# 2. Drag and drop: a small GTK window offers a CSV file by XDND; the pointer
#    drags it onto Lakebook's window; the lake must then hold it as a dataset.
#
# usage: scripts/check-desktop.sh [LAKEBOOK_BINARY] [SCREENSHOT_DIR]
# Installs xvfb, xdotool, imagemagick, dbus, the portal packages and GTK's
# Python bindings when missing (Debian). Screenshots of each step go to
# SCREENSHOT_DIR (default: a temporary folder, printed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/env.sh"
lakebook=${1:-$CARGO_TARGET_DIR/debug/lakebook}
shots=${2:-$(mktemp -d)}
mkdir -p "$shots"
[ -x "$lakebook" ] || { echo "no lakebook binary at $lakebook (cargo build -p lakebook)"; exit 2; }

need=()
command -v Xvfb >/dev/null || need+=(xvfb)
command -v xdotool >/dev/null || need+=(xdotool)
command -v import >/dev/null || need+=(imagemagick)
command -v dbus-run-session >/dev/null || need+=(dbus)
[ -x /usr/libexec/xdg-desktop-portal ] || need+=(xdg-desktop-portal)
[ -x /usr/libexec/xdg-desktop-portal-gtk ] || need+=(xdg-desktop-portal-gtk)
/usr/bin/python3 -c "import gi; gi.require_version('Gtk', '3.0')" 2>/dev/null ||
  need+=(python3-gi gir1.2-gtk-3.0)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${need[@]}" libgl1-mesa-dri >/dev/null
fi

work=$(mktemp -d)
trap 'kill "${xvfb:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
"$lakebook" --lake "$work/lake" init >/dev/null
for name in first second; do
  cat >"$work/$name.lakebook" <<EOF
format = 1
title = "The $name notebook"
lake = "$work/lake"

[[cells]]
id = "note"
kind = "markdown"
text = "# The $name notebook"
EOF
done
printf 'city,country\nTurku,Finland\nPorto,Portugal\n' >"$work/towns.csv"
# The drag source: a button whose drag carries one file's URI.
cat >"$work/drag_source.py" <<'PY'
import sys
import gi
gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, Gtk

window = Gtk.Window(title="drag source")
window.move(0, 0)
window.set_default_size(200, 100)
button = Gtk.Button(label="drag me")
button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
button.drag_source_add_uri_targets()
button.connect("drag-data-get",
               lambda _w, _c, data, _i, _t: data.set_uris(["file://" + sys.argv[1]]))
window.add(button)
window.connect("destroy", Gtk.main_quit)
window.show_all()
Gtk.main()
PY

export DISPLAY=:$((80 + RANDOM % 9))
Xvfb "$DISPLAY" -screen 0 1400x900x24 >/dev/null 2>&1 &
xvfb=$!
sleep 1
export XDG_RUNTIME_DIR="$work/runtime" XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config"
export XDG_CURRENT_DESKTOP=GNOME
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
unset WAYLAND_DISPLAY
export LAKEBOOK="$lakebook" WORK="$work" SHOTS="$shots"
dbus-run-session -- bash -c '
  set -u
  /usr/libexec/xdg-desktop-portal-gtk >"$WORK/portal-gtk.log" 2>&1 &
  /usr/libexec/xdg-desktop-portal >"$WORK/portal.log" 2>&1 &
  sleep 1
  "$LAKEBOOK" --lake "$WORK/lake" open "$WORK/first.lakebook" >"$WORK/app.log" 2>&1 &
  app=$!
  for _ in $(seq 60); do
    xdotool search --name "first.lakebook" >/dev/null 2>&1 && break
    sleep 0.5
  done
  import -window root "$SHOTS/1-window.png"
  # No window manager: give the window the keyboard focus by hand.
  window=$(xdotool search --name "first.lakebook" | head -1)
  xdotool mousemove 700 450 windowfocus --sync "$window" sleep 0.5 key ctrl+o
  for _ in $(seq 40); do
    [ "$(xdotool search --name . 2>/dev/null | wc -l)" -gt 2 ] && break
    sleep 0.5
  done
  sleep 2
  import -window root "$SHOTS/2-dialog.png"
  xdotool mousemove 400 300 sleep 0.3 type --delay 40 "$WORK/second.lakebook"
  sleep 1
  import -window root "$SHOTS/3-typed.png"
  xdotool key Return
  opened=no
  for _ in $(seq 40); do
    if xdotool search --name "second.lakebook" >/dev/null 2>&1; then opened=yes; break; fi
    sleep 0.5
  done
  sleep 1
  import -window root "$SHOTS/4-opened.png"
  echo "$opened" >"$WORK/dialog"

  /usr/bin/python3 "$WORK/drag_source.py" "$WORK/towns.csv" >"$WORK/drag.log" 2>&1 &
  source=$!
  for _ in $(seq 20); do
    xdotool search --name "drag source" >/dev/null 2>&1 && break
    sleep 0.5
  done
  sleep 1
  xdotool mousemove 100 50 sleep 0.3 mousedown 1 sleep 0.3
  for x in 120 160 220 300 400 500 600 700; do xdotool mousemove $x 400 sleep 0.1; done
  sleep 0.5
  xdotool mouseup 1
  dropped=no
  for _ in $(seq 40); do
    if "$LAKEBOOK" --lake "$WORK/lake" ls 2>/dev/null | grep -q towns; then dropped=yes; break; fi
    sleep 0.5
  done
  sleep 1
  import -window root "$SHOTS/5-dropped.png"
  echo "$dropped" >"$WORK/drop"
  kill $source $app 2>/dev/null || true
'
echo "screenshots: $shots"
status=0
if [ "$(cat "$work/dialog" 2>/dev/null)" = yes ]; then
  echo "PASS: Ctrl+O opened the portal's file chooser and the chosen notebook opened"
else
  echo "FAIL: the window never showed second.lakebook"
  status=1
fi
if [ "$(cat "$work/drop" 2>/dev/null)" = yes ]; then
  echo "PASS: a CSV dragged onto the window was ingested as dataset 'towns'"
else
  echo "FAIL: the dragged CSV never reached the lake"
  status=1
fi
if [ $status != 0 ]; then
  echo "app log:"
  tail -20 "$work/app.log" "$work/drag.log" 2>/dev/null
fi
exit $status
