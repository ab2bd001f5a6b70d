#!/usr/bin/env bash
# Static hardening checks for a Dockerfile.
#
# Usage: check_dockerfile.sh [path/to/Dockerfile]   (default: ./Dockerfile)
# Exit code: 1 if any HIGH finding, 0 otherwise, 2 if the file is missing.
set -uo pipefail

file="${1:-Dockerfile}"
if [[ ! -f "$file" ]]; then
  echo "error: $file not found" >&2
  exit 2
fi
dir=$(dirname "$file")
high=0
medium=0
low=0

report() {  # level, line, message
  printf '%-6s line %-4s %s\n' "$1" "$2" "$3"
  case "$1" in
    HIGH) high=$((high + 1)) ;;
    MEDIUM) medium=$((medium + 1)) ;;
    *) low=$((low + 1)) ;;
  esac
}

# Join continuation lines, keep the starting line number, drop comments.
joined=$(awk '
  /^[[:space:]]*#/ { next }
  {
    if (buf == "") start = NR
    line = $0
    if (sub(/\\[[:space:]]*$/, "", line)) { buf = buf line " "; next }
    print start "\t" buf line
    buf = ""
  }' "$file")

stages=" "
last_user=""
last_user_line=0
from_count=0
has_healthcheck=0
has_build_tools=0

while IFS=$'\t' read -r n text; do
  [[ -z "${text// /}" ]] && continue
  instr=$(awk '{print toupper($1)}' <<< "$text")
  args=${text#*[[:space:]]}
  case "$instr" in
    FROM)
      from_count=$((from_count + 1))
      image=$(awk '{for (i = 1; i <= NF; i++) if ($i !~ /^--/) {print $i; exit}}' <<< "$args")
      alias=$(awk 'tolower($(NF-1)) == "as" {print $NF}' <<< "$args")
      [[ -n "$alias" ]] && stages+="$alias "
      if [[ "$image" != "scratch" && "$stages" != *" $image "* && "$image" != *@sha256:* ]]; then
        last_part=${image##*/}
        if [[ "$last_part" != *:* || "$image" == *:latest ]]; then
          report HIGH "$n" "base image '$image' is not pinned (use a version tag or digest)"
        else
          report LOW "$n" "base image '$image' pinned by tag only; a digest is reproducible"
        fi
      fi
      last_user=""
      last_user_line=0
      ;;
    USER)
      last_user=$(awk '{print $1}' <<< "$args")
      last_user_line=$n
      ;;
    ADD)
      if [[ "$args" =~ https?:// ]]; then
        report MEDIUM "$n" "ADD from URL: download with checksum verification in RUN instead"
      elif [[ ! "$args" =~ \.(tar|tgz|tar\.gz|tar\.xz)([[:space:]]|$) ]]; then
        report LOW "$n" "use COPY instead of ADD for local files"
      fi
      ;;
    RUN)
      if [[ "$args" =~ (curl|wget)[^|]*\|[[:space:]]*(sudo[[:space:]]+)?(ba|z)?sh ]]; then
        report HIGH "$n" "piping a download into a shell; verify a checksum first"
      fi
      if [[ "$args" == *"apt-get install"* && "$args" != *"--no-install-recommends"* ]]; then
        report MEDIUM "$n" "apt-get install without --no-install-recommends"
      fi
      if [[ "$args" == *"apt-get install"* && "$args" != *"rm -rf /var/lib/apt/lists"* ]]; then
        report LOW "$n" "apt lists not removed in the same layer"
      fi
      if [[ "$args" == *"apk add"* && "$args" != *"--no-cache"* ]]; then
        report LOW "$n" "apk add without --no-cache"
      fi
      if [[ "$args" =~ (^|[[:space:]])sudo[[:space:]] ]]; then
        report MEDIUM "$n" "sudo inside an image is unnecessary and widens attack surface"
      fi
      if [[ "$args" =~ (build-essential|gcc|g\+\+|make|-dev([[:space:]]|$)|-devel) ]]; then
        has_build_tools=1
      fi
      ;;
    ENV|ARG)
      if [[ "$args" =~ (PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE_KEY)[A-Z_]*[=[:space:]]+[^[:space:]]+ ]]; then
        report HIGH "$n" "secret-like value in $instr is stored in image metadata; use build secrets"
      fi
      ;;
    COPY)
      if [[ "$args" =~ (^|[[:space:]])\.[[:space:]]+\. ]] && [[ ! -f "$dir/.dockerignore" ]]; then
        report MEDIUM "$n" "COPY . . without a .dockerignore may copy .git, .env and local files"
      fi
      ;;
    HEALTHCHECK)
      has_healthcheck=1
      ;;
  esac
done <<< "$joined"

if [[ -z "$last_user" || "$last_user" == "root" || "$last_user" == "0" || "$last_user" == 0:* ]]; then
  where="-"
  [[ $last_user_line -gt 0 && -n "$last_user" ]] && where=$last_user_line
  report HIGH "$where" "final stage runs as root; add a non-root USER"
fi
if [[ $has_build_tools -eq 1 && $from_count -lt 2 ]]; then
  report MEDIUM "-" "build tools installed in a single-stage build; use a multi-stage build"
fi
if [[ $has_healthcheck -eq 0 ]]; then
  report LOW "-" "no HEALTHCHECK (fine if the orchestrator defines probes)"
fi

echo
echo "$high high, $medium medium, $low low"
[[ $high -eq 0 ]]
