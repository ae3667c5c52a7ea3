#!/usr/bin/zsh -f
# Prints what zsh's completion system offers for a command line, one candidate a
# line, as a user would get on TAB: usage: zsh_complete.zsh FPATH_DIR 'musicfsctl cache '
# A zsh runs interactively on a pseudo-terminal (zpty) with compinit and the
# completion functions in FPATH_DIR; compadd is wrapped to print each match it adds.
emulate -L zsh
zmodload zsh/zpty || exit 1
[[ $# -eq 2 ]] || { print -u2 "usage: $0 FPATH_DIR LINE"; exit 2 }
local dir=$1 line=$2

local init=$(mktemp) || exit 1
trap 'rm -f $init' EXIT
cat >$init <<INIT
PROMPT='' RPROMPT='' PS2=''
unsetopt zle_bracketed_paste 2>/dev/null
fpath=(${(q)dir} \$fpath)
autoload -Uz compinit && compinit -u -D
zstyle ':completion:*' list-grouped false
zstyle ':completion:*' menu no
zstyle ':completion:*' insert-tab false
compadd() {
  # Calls that only fill arrays (-O, -A, -D) are bookkeeping of the helpers.
  if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "\$@"
    return \$?
  fi
  local -a __hits
  builtin compadd -A __hits "\$@"
  local __ret=\$?
  (( \$#__hits )) && print -r -l -- "" "<hit>"\${^__hits}
  builtin compadd "\$@"
  return __ret
}
_zc_end() { print -r -- \$'\\n'"<end>" }
zstyle ':completion:*' completer _zc_wrap
_zc_wrap() { comppostfuncs=(_zc_end); _complete }
bindkey '^I' complete-word
INIT

zpty z zsh -f -i || exit 1
zpty -w z "source ${(q)init}"
zpty -w -n z "$line"$'\t'
local out chunk
local -F deadline=$(( SECONDS + 20 ))
while (( SECONDS < deadline )); do
  zpty -r -t z chunk 2>/dev/null && out+=$chunk || sleep 0.05
  [[ $out == *'<end>'* ]] && break
done
zpty -d z
[[ $out == *'<end>'* ]] || { print -u2 "zsh_complete: no completion result for '$line'"; exit 1 }
local l
for l in ${(f)out}; do
  l=${l%$'\r'}
  [[ $l == '<hit>'* ]] && print -r -- ${l#<hit>}
done
exit 0
