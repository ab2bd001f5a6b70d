#!/usr/bin/env bash
# Group conventional-commit subjects into a Markdown release notes draft.
#
# Usage:
#   group_commits.sh v1.8.0..v1.9.0     # read subjects from git log
#   some_command | group_commits.sh -   # read one subject per line from stdin
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 RANGE | -" >&2
  exit 2
fi

if [[ "$1" == "-" ]]; then
  subjects=$(cat)
else
  subjects=$(git log --no-merges --pretty=format:'%s' "$1")
fi

declare -A buckets=()
order=(breaking feat perf fix docs other)
declare -A titles=(
  [breaking]="Breaking or action required"
  [feat]="New"
  [perf]="Improved"
  [fix]="Fixed"
  [docs]="Documentation"
  [other]="Other (review before publishing)"
)

while IFS= read -r line; do
  [[ -z "$line" ]] && continue
  re='^([a-z]+)(\([^)]*\))?(!)?:[[:space:]]*(.*)$'
  if [[ "$line" =~ $re ]]; then
    type="${BASH_REMATCH[1]}"
    bang="${BASH_REMATCH[3]}"
    text="${BASH_REMATCH[4]}"
  else
    type="other"; bang=""; text="$line"
  fi
  case "$type" in
    chore|ci|test|build|style|refactor) continue ;;
    feat|perf|fix|docs) ;;
    *) type="other" ;;
  esac
  [[ -n "$bang" || "$line" == *"BREAKING CHANGE"* ]] && type="breaking"
  buckets[$type]+="- ${text^}"$'\n'
done <<< "$subjects"

echo "# Release notes draft"
for key in "${order[@]}"; do
  if [[ -n "${buckets[$key]:-}" ]]; then
    printf '\n## %s\n\n%s' "${titles[$key]}" "${buckets[$key]}"
  fi
done
printf '\n## Known issues\n\n- None reported\n'
