#!/usr/bin/env bash
# make-placeholder.sh - build the tiny bundled sample clip that the vod catalog
# serves in place of conference-talk recordings that are not present locally.
#
# Output: vod/static/placeholder.mp4
#   * 640x360, 30 s, H.264 (yuv420p, Main profile), keyframe every 2 s
#   * AAC-LC mono, silent, low bitrate
#   * -movflags +faststart so the moov atom comes first (plays while loading)
#   * a dark title card with two lines of text and a running timecode, so
#     that playback and seeking are visible
#
# Requires: ffmpeg (with libx264 + libfreetype) and fonts-dejavu-core.
# Usage:    scripts/make-placeholder.sh [output.mp4]
set -euo pipefail

# Resolve paths relative to the repository root, wherever we are called from.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo_root/vod/static/placeholder.mp4}"

# Fonts from the Debian package fonts-dejavu-core (explicit paths: no fontconfig).
font="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
font_bold="/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
font_mono="/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
for f in "$font" "$font_bold" "$font_mono"; do
    [[ -r "$f" ]] || { echo "missing font $f (apt-get install fonts-dejavu-core)" >&2; exit 1; }
done
command -v ffmpeg >/dev/null || { echo "ffmpeg not found" >&2; exit 1; }

# Clip parameters.
duration=30     # seconds
fps=30          # frames per second
gop=$((fps * 2))  # keyframe interval in frames = 2 s, for quick seeking

# The static text lives in small files so that no filtergraph escaping is
# needed for the ':' characters in it.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf '%s' 'vod sample clip' >"$tmp/title.txt"
printf '%s' 'Placeholder: the real recording is not available here' >"$tmp/subtitle.txt"

# Video filter chain, drawn on a plain dark (#1b1f27) background:
#   1. title, large, bold, near-white
#   2. explanation line, smaller, light grey
#   3. running timecode (HH:MM:SS.mmm of the presentation timestamp), amber
vf="drawtext=fontfile=${font_bold}:textfile=${tmp}/title.txt:fontcolor=0xF2F2F2:fontsize=44:x=(w-text_w)/2:y=(h/2)-90"
vf+=",drawtext=fontfile=${font}:textfile=${tmp}/subtitle.txt:fontcolor=0xC8CCD4:fontsize=20:x=(w-text_w)/2:y=(h/2)-10"
vf+=",drawtext=fontfile=${font_mono}:text='%{pts\\:hms}':fontcolor=0xFFC857:fontsize=32:x=(w-text_w)/2:y=(h/2)+50"
vf+=",format=yuv420p"

mkdir -p "$(dirname "$out")"

# Inputs: a solid colour source for the picture and silence for the audio.
# Encoding: x264 Main profile level 3.0 (plays everywhere), fixed 2 s GOP with
# scene-cut keyframes disabled, CRF with a bitrate cap to stay tiny; AAC-LC
# mono 24 kb/s at 22.05 kHz.
ffmpeg -hide_banner -loglevel warning -y \
    -f lavfi -i "color=c=0x1b1f27:s=640x360:r=${fps}:d=${duration}" \
    -f lavfi -i "anullsrc=channel_layout=mono:sample_rate=22050" \
    -vf "$vf" \
    -c:v libx264 -profile:v main -level:v 3.0 -pix_fmt yuv420p \
    -preset slow -tune stillimage -crf 28 -maxrate 250k -bufsize 500k \
    -g "$gop" -keyint_min "$gop" -sc_threshold 0 \
    -c:a aac -b:a 24k -ac 1 -ar 22050 \
    -t "$duration" -shortest \
    -movflags +faststart \
    -metadata title="vod sample clip (placeholder)" \
    "$out"

# Report what was produced.
size=$(stat -c %s "$out")
echo "wrote $out (${size} bytes)"
if (( size >= 300 * 1024 )); then
    echo "warning: $out is larger than 300 KB" >&2
    exit 1
fi
