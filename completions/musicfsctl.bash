# bash completion for musicfsctl(1)                          -*- shell-script -*-
# Installed as $datadir/bash-completion/completions/musicfsctl.

# Mount points of musicfs mounts (fstype fuse.musicfs), one per line, with the
# octal escapes of /proc/mounts (\040 for a space) decoded.
_musicfsctl_mounts()
{
    local _dev mp fstype _rest
    [[ -r /proc/mounts ]] || return 0
    while IFS=' ' read -r _dev mp fstype _rest; do
        [[ $fstype == fuse.musicfs ]] && printf '%b\n' "$mp"
    done </proc/mounts
}

# Origin ids known to the running daemon (first column of `status` rows).
_musicfsctl_origins()
{
    musicfsctl "$@" status 2>/dev/null |
        awk -F'\t' 'NF == 7 && $1 != "ORIGIN" { print $1 }'
}

_musicfsctl()
{
    local cur prev words cword split
    _init_completion -s || return

    local subcommands="mount unmount status events route-explain health daemon"
    local globals="--socket --json --log-level --version --help"
    local event_kinds="origin_added origin_removed origin_healthy origin_degraded
        origin_unhealthy failover all_origins_unhealthy mount unmount"

    # Find the subcommand (and `daemon stop`), skipping global options and
    # their arguments; remember --socket for the origin-id lookup.
    local i sub="" subsub="" word
    local -a socket_args=()
    for ((i = 1; i < cword; i++)); do
        word=${words[i]}
        if [[ -z $sub ]]; then
            case $word in
                --socket)
                    socket_args=(--socket "${words[i + 1]}")
                    ((i++))
                    ;;
                --socket=*) socket_args=("$word") ;;
                --log-level) ((i++)) ;;
                -*) ;;
                *) sub=$word ;;
            esac
        elif [[ $sub == daemon && $word == stop ]]; then
            subsub=stop
        elif [[ $sub == daemon && $word == --state-dir ]]; then
            ((i++))
        fi
    done

    # Arguments of options.
    case $prev in
        --socket)
            _filedir
            return
            ;;
        --log-level)
            COMPREPLY=($(compgen -W "trace debug info warn error critical off" -- "$cur"))
            return
            ;;
        -c | --config)
            _filedir
            return
            ;;
        --state-dir)
            _filedir -d
            return
            ;;
        --since)
            COMPREPLY=($(compgen -W "90s 15m 1h 24h 7d 2w" -- "$cur"))
            return
            ;;
        --kind)
            COMPREPLY=($(compgen -W "$event_kinds" -- "$cur"))
            return
            ;;
        --mount)
            local IFS=$'\n'
            COMPREPLY=($(compgen -W "$(_musicfsctl_mounts)" -- "$cur"))
            return
            ;;
        --origin)
            COMPREPLY=($(compgen -W "$(_musicfsctl_origins "${socket_args[@]}")" -- "$cur"))
            return
            ;;
    esac
    $split && return

    if [[ -z $sub ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$globals" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$subcommands" -- "$cur"))
        fi
        return
    fi

    case $sub in
        mount)
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "-c --config --json --help" -- "$cur"))
            else
                _filedir -d
            fi
            ;;
        unmount)
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "--json --help" -- "$cur"))
            else
                local IFS=$'\n'
                COMPREPLY=($(compgen -W "$(_musicfsctl_mounts)" -- "$cur"))
            fi
            ;;
        status)
            COMPREPLY=($(compgen -W "--json --help" -- "$cur"))
            ;;
        events)
            COMPREPLY=($(compgen -W "--since --kind -f --follow --json --help" -- "$cur"))
            ;;
        route-explain)
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "--mount --json --help" -- "$cur"))
            else
                _filedir
            fi
            ;;
        health)
            COMPREPLY=($(compgen -W "--check --origin --json --help" -- "$cur"))
            ;;
        daemon)
            if [[ -n $subsub ]]; then
                [[ $cur == -* ]] && COMPREPLY=($(compgen -W "--help" -- "$cur"))
            elif [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "--state-dir --json --help" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "stop" -- "$cur"))
            fi
            ;;
    esac
} &&
    complete -F _musicfsctl musicfsctl

# ex: filetype=sh
