# bash completion for vigil(1): commands, their options and the values those
# take, files where files go, and digest names from `vigil digest --list`.
# Installed as PREFIX/share/bash-completion/completions/vigil; it needs no
# other completion helper.

# _vigil_files [-d]: completes the current word as a path (a directory with -d).
_vigil_files() {
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(compgen "${1:--f}" -- "$cur")
}

# _vigil_digests: the digest names the configuration of the line has.
_vigil_digests() {
  local -a args=()
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
    --db | --config) args+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;
    esac
  done
  "${COMP_WORDS[0]}" digest --list "${args[@]}" 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_vigil() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local commands="run ingest publish query show alerts explain amend retract silence poll feeds digest check test eval replay config"
  local globals="--db --config --log-level --quiet --verbose --json --help"
  COMPREPLY=()

  # The command word: the first that is neither an option nor a global
  # option's value.
  local cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
    --db | --config | --log-level) ((i++)) ;;
    -*) ;;
    *)
      cmd=${COMP_WORDS[i]}
      break
      ;;
    esac
  done

  # The value of the option before the cursor.
  case $prev in
  --db | --config | --socket) _vigil_files; return ;;
  --spool | --out) _vigil_files -d; return ;;
  --rules) _vigil_files; return ;;
  --log-level) mapfile -t COMPREPLY < <(compgen -W "debug info notice warn error" -- "$cur"); return ;;
  --format)
    local formats="auto chrono json acled gdelt"
    [[ $cmd == poll ]] && formats="auto rss atom json chrono acled gdelt"
    mapfile -t COMPREPLY < <(compgen -W "$formats" -- "$cur")
    return
    ;;
  --follow-redirects) mapfile -t COMPREPLY < <(compgen -W "same-host any none" -- "$cur"); return ;;
  --since | --until | --at | --limit | --source | --tag | --text | --rule | --listen | --feed | \
    --nats | --key | --for | --author | --reason | --partition-by | --partitions | --from-seq | \
    --from-time | --entry)
    return ;;
  esac

  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$globals --version" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$commands help" -- "$cur")
    fi
    return
  fi

  local opts=""
  case $cmd in
  run) opts="--socket --listen --spool --rules --feed --nats --format" ;;
  ingest) opts="--format --source --rules --no-rules --skip-broken" ;;
  publish) opts="--nats --partition-by --partitions --no-msg-id" ;;
  query) opts="--since --until --source --tag --text --limit" ;;
  alerts) opts="--since --until --rule --state --limit" ;;
  show) opts="--history" ;;
  amend) opts="--date --text --source --field --reason --rules" ;;
  retract) opts="--reason --rules" ;;
  explain) opts="--entry --rule --rules --skip-broken" ;;
  silence) opts="--rule --key --until --for --author --reason --all" ;;
  poll) opts="--format --source --rules --no-rules --skip-broken --follow-redirects" ;;
  feeds) opts="--all" ;;
  digest) opts="--at --out --list" ;;
  check | test) opts="--rules" ;;
  eval) opts="--rules --against --min-f1" ;;
  replay) opts="--since --until --rules --skip-broken --nats --from-seq --from-time --dry-run" ;;
  config) opts="--check --show --rules" ;;
  esac
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$opts $globals" -- "$cur")
    return
  fi
  case $cmd in
  ingest | publish | check | test | eval | config) _vigil_files ;;
  digest) mapfile -t COMPREPLY < <(compgen -W "$(_vigil_digests)" -- "$cur") ;;
  alerts) [[ $prev == --state ]] && mapfile -t COMPREPLY < <(compgen -W "active silenced retracted all" -- "$cur") ;;
  silence) # its action, once
    local j act=""
    for ((j = i + 1; j < COMP_CWORD; j++)); do
      case ${COMP_WORDS[j]} in
      add | list | expire) act=${COMP_WORDS[j]} ;;
      esac
    done
    [[ -z $act ]] && mapfile -t COMPREPLY < <(compgen -W "add list expire" -- "$cur")
    ;;
  esac
}
complete -F _vigil vigil
