# fish completion for musicfsctl(1).
# Installed as $datadir/fish/vendor_completions.d/musicfsctl.fish.

set -l __musicfsctl_commands mount unmount status events route-explain tags health origins cache config metrics daemon

# Mount points of musicfs mounts (fstype fuse.musicfs in /proc/mounts); a space
# is written there as \040.
function __musicfsctl_mounts
    test -r /proc/mounts; or return
    while read -l dev mp fstype rest
        if test "$fstype" = fuse.musicfs
            printf '%b\n' $mp
        end
    end </proc/mounts
end

# Origin ids known to the running daemon, from `musicfsctl --json origins list`
# (every origin of every mount, enabled or not), asking the daemon on the
# --socket given on the command line, if any. The JSON is read with grep and
# sed: an id is only letters, digits, '-', '_' and '.'. Prints nothing when no
# daemon answers (within 2 s).
function __musicfsctl_origins
    set -l tokens (commandline -opc)
    set -l socket
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --socket
                set -l next (math $i + 1)
                if test $next -le (count $tokens)
                    set socket --socket $tokens[$next]
                end
            case '--socket=*'
                set socket $tokens[$i]
        end
    end
    set -l limit
    command -q timeout; and set limit timeout 2
    $limit musicfsctl $socket --json origins list 2>/dev/null |
        grep -o '"id": *"[^"]*"' | sed 's/^"id": *"\(.*\)"$/\1/' | sort -u
end

# True when the command line has subcommand $argv[1] and no action of it yet.
function __musicfsctl_needs_action
    set -l tokens (commandline -opc)
    contains -- $argv[1] $tokens; or return 1
    switch $argv[1]
        case origins
            not contains -- list $tokens; and not contains -- add $tokens; and not contains -- remove $tokens
            and not contains -- enable $tokens; and not contains -- disable $tokens
        case cache
            not contains -- stat $tokens; and not contains -- clear $tokens; and not contains -- prefetch $tokens
        case config
            not contains -- check $tokens
    end
end

complete -c musicfsctl -f

# Global options (before the subcommand).
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -l socket -r -F -d 'Control socket'
complete -c musicfsctl -l json -d 'Print machine-readable JSON'
complete -c musicfsctl -l timeout -x -d 'Seconds to wait for the daemon (0: forever)'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -l log-level -x -a 'trace debug info warn error critical off' -d 'Daemon log level'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -l version -d 'Print the version and exit'
complete -c musicfsctl -s h -l help -d 'Print help and exit'

# Subcommands.
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a mount -d 'Mount the federated tree described by a config file'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a unmount -d 'Unmount a musicfs mount point'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a status -d 'Show the daemon, its mounts and their origins'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a events -d 'Show the event log'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a route-explain -d 'Explain which origin serves a path, and why'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a tags -d 'Show the tags a file was placed by, and the copy they came from'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a health -d "Show each origin's health"
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a origins -d 'List, add, remove, enable or disable origins at run time'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a cache -d 'Inspect, clear or fill the content cache'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a config -d 'Check a config file without a daemon'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a metrics -d 'Print the metrics in the Prometheus text format'
complete -c musicfsctl -n "not __fish_seen_subcommand_from $__musicfsctl_commands" -a daemon -d 'Run the daemon in the foreground (or: daemon stop)'

# mount [-c FILE] [-o OPTIONS] [MOUNTPOINT]
complete -c musicfsctl -n '__fish_seen_subcommand_from mount' -s c -l config -r -F -d 'Config file (musicfs.toml(5); default ~/.config/musicfs/config.toml)'
function __musicfsctl_mount_options
    printf '%s\n' allow_other ro defaults noauto _netdev nofail
end
complete -c musicfsctl -n '__fish_seen_subcommand_from mount' -s o -x -a '(__fish_complete_list , __musicfsctl_mount_options)' -d 'Mount options, comma-separated'
complete -c musicfsctl -n '__fish_seen_subcommand_from mount' -a '(__fish_complete_directories)' -d 'Mount point'

# unmount MOUNTPOINT
complete -c musicfsctl -n '__fish_seen_subcommand_from unmount' -a '(__musicfsctl_mounts)' -d 'musicfs mount'

# events [--since WHEN] [--kind KIND] [-f]
complete -c musicfsctl -n '__fish_seen_subcommand_from events' -l since -x -a '90s 15m 1h 24h 7d 2w' -d 'Only events since then'
complete -c musicfsctl -n '__fish_seen_subcommand_from events' -l kind -x -a 'origin_added origin_removed origin_disabled origin_healthy origin_degraded origin_unhealthy failover all_origins_unhealthy mount unmount config_reloaded config_reload_failed state_reset cache_reset' -d 'Only events of this kind'
complete -c musicfsctl -n '__fish_seen_subcommand_from events' -s f -l follow -d 'Keep streaming new events'

# route-explain PATH [--mount MOUNTPOINT]
complete -c musicfsctl -n '__fish_seen_subcommand_from route-explain' -F -d 'Path'
complete -c musicfsctl -n '__fish_seen_subcommand_from route-explain' -l mount -x -a '(__musicfsctl_mounts)' -d 'Treat PATH as a virtual path inside this mount'
# tags PATH [--mount MOUNTPOINT]
complete -c musicfsctl -n '__fish_seen_subcommand_from tags' -F -d 'Path'
complete -c musicfsctl -n '__fish_seen_subcommand_from tags' -l mount -x -a '(__musicfsctl_mounts)' -d 'Treat PATH as a virtual path inside this mount'

# health [--check] [--origin ID] | health --history|--summary [--since WHEN] [--origin ID]
complete -c musicfsctl -n '__fish_seen_subcommand_from health' -l check -d 'Probe now and wait for the result'
complete -c musicfsctl -n '__fish_seen_subcommand_from health' -l origin -x -a '(__musicfsctl_origins)' -d 'Only this origin'
complete -c musicfsctl -n '__fish_seen_subcommand_from health' -l format -x -a 'table nagios' -d 'table, or the one line of a Nagios plugin'
complete -c musicfsctl -n '__fish_seen_subcommand_from health; and not __fish_seen_argument -l summary' -l history -d 'List past health checks'
complete -c musicfsctl -n '__fish_seen_subcommand_from health; and not __fish_seen_argument -l history' -l summary -d 'Per origin: checks, failures, availability, longest outage'
complete -c musicfsctl -n '__fish_seen_subcommand_from health' -l since -x -a '90s 15m 1h 24h 7d 2w' -d 'Window of --history/--summary (default 24h)'

# origins list | add ID --type T --priority N [--path DIR] [--set KEY=VALUE ...] [--disabled] [--mount MP]
#         | remove|enable|disable ID [--mount MP]
complete -c musicfsctl -n '__musicfsctl_needs_action origins' -a list -d 'List every origin of every mount'
complete -c musicfsctl -n '__musicfsctl_needs_action origins' -a add -d 'Add an origin to a mount, live and persisted'
complete -c musicfsctl -n '__musicfsctl_needs_action origins' -a remove -d 'Remove an origin (its history is kept)'
complete -c musicfsctl -n '__musicfsctl_needs_action origins' -a enable -d 'Enable an origin'
complete -c musicfsctl -n '__musicfsctl_needs_action origins' -a disable -d 'Disable an origin (its files leave the tree)'
complete -c musicfsctl -n '__fish_seen_subcommand_from origins; and __fish_seen_subcommand_from add' -l type -x -a 'local nfs smb s3 sftp http' -d 'Origin type'
complete -c musicfsctl -n '__fish_seen_subcommand_from origins; and __fish_seen_subcommand_from add' -l priority -x -d '0-255, lower wins'
complete -c musicfsctl -n '__fish_seen_subcommand_from origins; and __fish_seen_subcommand_from add' -l path -x -a '(__fish_complete_directories)' -d 'Absolute path of the music directory'
complete -c musicfsctl -n '__fish_seen_subcommand_from origins; and __fish_seen_subcommand_from add' -l set -x -a 'bucket= prefix= region= endpoint= path_style= credentials_file= profile= tls_verify= refresh_interval_secs= host= port= user= identity_file= known_hosts= url= cache=' -d 'KEY=VALUE: any other key of the type'
complete -c musicfsctl -n '__fish_seen_subcommand_from origins; and __fish_seen_subcommand_from add' -l disabled -d 'Add it disabled'
complete -c musicfsctl -n '__fish_seen_subcommand_from origins; and __fish_seen_subcommand_from add remove enable disable' -l mount -x -a '(__musicfsctl_mounts)' -d 'Mount point (needed when several are mounted)'
complete -c musicfsctl -n '__fish_seen_subcommand_from origins; and __fish_seen_subcommand_from remove enable disable' -a '(__musicfsctl_origins)' -d 'Origin'

# cache stat | clear [--origin ID] [--mount MP] | prefetch PATH... [--mount MP]
complete -c musicfsctl -n '__musicfsctl_needs_action cache' -a stat -d 'Capacity, use, hits and misses, bytes fetched per origin'
complete -c musicfsctl -n '__musicfsctl_needs_action cache' -a clear -d 'Drop cached content (of one origin with --origin)'
complete -c musicfsctl -n '__musicfsctl_needs_action cache' -a prefetch -d 'Fetch whole files or directories into the cache'
complete -c musicfsctl -n '__fish_seen_subcommand_from cache; and __fish_seen_subcommand_from clear' -l origin -x -a '(__musicfsctl_origins)' -d "Only this origin's cached content"
complete -c musicfsctl -n '__fish_seen_subcommand_from cache; and __fish_seen_subcommand_from clear' -l mount -x -a '(__musicfsctl_mounts)' -d 'Mount point (needed when several are mounted)'
complete -c musicfsctl -n '__fish_seen_subcommand_from cache; and __fish_seen_subcommand_from prefetch' -l mount -x -a '(__musicfsctl_mounts)' -d 'Treat PATHs as virtual paths inside this mount'
complete -c musicfsctl -n '__fish_seen_subcommand_from cache; and __fish_seen_subcommand_from prefetch' -F -d 'File or directory'

complete -c musicfsctl -n '__fish_seen_subcommand_from daemon; and not __fish_seen_subcommand_from stop' -s c -l config -r -F -d 'Mount this config file at start (repeatable)'
complete -c musicfsctl -n '__fish_seen_subcommand_from daemon; and not __fish_seen_subcommand_from stop' -l log-file -r -F -d 'Log to this file instead of stderr'

# config check FILE
complete -c musicfsctl -n '__musicfsctl_needs_action config' -a check -d 'Parse and validate a config file, naming every problem'
complete -c musicfsctl -n '__fish_seen_subcommand_from config; and __fish_seen_subcommand_from check' -F -d 'Config file'

# daemon [--state-dir DIR] | daemon stop
complete -c musicfsctl -n '__fish_seen_subcommand_from daemon; and not __fish_seen_subcommand_from stop' -l state-dir -x -a '(__fish_complete_directories)' -d 'Directory for the log and state'
complete -c musicfsctl -n '__fish_seen_subcommand_from daemon; and not __fish_seen_subcommand_from stop' -a stop -d 'Stop the running daemon: unmount everything and exit'
