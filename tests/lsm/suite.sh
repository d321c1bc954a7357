#!/bin/sh
# The LSM engine's tests, run as root inside the QEMU guest (tests/lsm/run boots it). Each test prints
# "ok - NAME" or "not ok - NAME: why". cordon runs as root the way sudo starts it (SUDO_UID/SUDO_GID set), so the
# program runs as the unprivileged cordon-test; the attack tests that need a root program leave SUDO_UID out.
C=/opt/cordon/cordon
H=/home/cordon-test
W=$H/work
MARK=MARKER-$$-SECRET
mkdir -p $H/.ssh $W
echo "-----BEGIN KEY----- $MARK" > $H/.ssh/id_rsa
echo "# rc" > $H/.bashrc
echo hello > $W/a.txt
chown -R 1000:1000 $H
chmod 700 $H/.ssh
ip link set lo up
cd $W
export HOME=$H SUDO_UID=1000 SUDO_GID=1000 PATH=/bin:/sbin:/usr/bin:/usr/sbin
run() { "$C" run --engine lsm --no-prompt "$@"; }
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1: $2"; }
has() { printf '%s' "$1" | grep -q -- "$2"; }   # has TEXT PATTERN
t() { # NAME CONDITION-COMMAND...: the test passes when the condition command succeeds
  name="$1"; shift; echo "# $(cut -d" " -f1 /proc/uptime) s: $name"
  if "$@"; then ok "$name"; else bad "$name" "${why:-condition failed}"; fi
  why=""
}

out=$(run -- id -u 2>&1)
why="id -u printed: $out"; t program_runs_as_the_sudo_user [ "$out" = 1000 ]

out=$(run --allow-read=$W -- cat $W/a.txt 2>&1)
why="got: $out"; t allowed_read_works [ "$out" = hello ]

# sudo resets HOME to root's: "~" and the program's HOME are still the sudo user's.
out=$(env HOME=/root "$C" run --engine lsm --no-prompt --allow-read='~/work' -- sh -c 'echo "$HOME"; cat '"$W"'/a.txt' 2>&1)
why="got: $out"; t under_sudo_home_is_the_users eval 'has "$out" "^$H\$" && has "$out" hello'

out=$(run -- cat $H/.ssh/id_rsa 2>&1); rc=$?
leaked() { has "$out" "$MARK"; }
why="rc=$rc out=$out"; t secret_read_is_denied eval '[ $rc -ne 0 ] && ! leaked' 

ln -s $H/.ssh/id_rsa $W/link
out=$(run --allow-read=$W -- cat $W/link 2>&1)
why="out=$out"; t symlink_to_secret_is_denied eval '! leaked' 

T="--allow-run=/opt/tests"
out=$(run --allow-read=$W $T -- /opt/tests/uring_read $H/.ssh/id_rsa 2>&1); rc=$?
why="rc=$rc out=$out"; t io_uring_read_of_secret_is_denied eval '[ $rc -eq 2 ] && ! leaked'

out=$(run --allow-read=$W $T -- /opt/tests/uring_read $W/a.txt 2>/dev/null); rc=$?
why="rc=$rc out=$out"; t io_uring_read_of_allowed_file_works eval '[ $rc -eq 0 ] && [ "$out" = hello ]' 

run -- sh -c 'echo evil >> ~/.bashrc' >/dev/null 2>&1
why="bashrc: $(cat $H/.bashrc)"; t bashrc_append_is_denied sh -c "! grep -q evil $H/.bashrc"

run --allow-read=$W --allow-write=$W -- sh -c "echo x > $W/new.txt" >/dev/null 2>&1
why="new.txt: $(cat $W/new.txt 2>&1)"; t write_in_allowed_folder_works [ "$(cat $W/new.txt 2>/dev/null)" = x ]

run -- sh -c "echo x > $H/planted.txt" >/dev/null 2>&1
why="planted.txt: $(cat $H/planted.txt 2>&1)"; t create_outside_allowed_folders_writes_nothing sh -c "[ ! -s $H/planted.txt ]"

run -- rm -f $W/a.txt >/dev/null 2>&1
t delete_is_denied [ -f $W/a.txt ]

run --allow-write=$W -- mv $H/.bashrc $W/stolen >/dev/null 2>&1
t rename_of_bashrc_is_denied [ -f $H/.bashrc ]

run -- mkdir $H/newdir >/dev/null 2>&1
t mkdir_is_denied [ ! -d $H/newdir ]

run -- chmod 777 $W/a.txt >/dev/null 2>&1
t chmod_is_denied sh -c "[ \"\$(stat -c %a $W/a.txt)\" != 777 ]"

cp /opt/tests/uring_read $W/tool; chown 1000:1000 $W/tool
# (The program named on cordon's command line is allowed by that; one it starts is decided.)
out=$(run --allow-read=$W -- sh -c "$W/tool $W/a.txt" 2>&1); rc=$?
why="rc=$rc out=$out"; t program_from_home_started_by_the_program_is_not_run eval '[ $rc -eq 126 ] && ! has "$out" hello'

out=$(run --allow-read=$W --allow-run=$W/tool -- sh -c "$W/tool $W/a.txt" 2>/dev/null)
why="out=$out"; t allowed_program_runs [ "$out" = hello ]

rm -f /tmp/decisions.json
run --allow-read=$W/a.txt --log /tmp/decisions.json -- sh -c "cat $W/a.txt; cat $W/a.txt; cat $W/a.txt" >/dev/null 2>&1
n=$(grep -c "\"$W/a.txt\"" /tmp/decisions.json)
why="a.txt decided $n times in user space"; t repeated_opens_are_decided_in_the_kernel [ "$n" = 1 ]

# Folder grants: a folder whose whole tree the rules allow is decided in the kernel (an ancestor walk), with no
# question to cordon per file; a rule below it that says otherwise keeps the folder out of the kernel.
mkdir -p $W/tree/sub $W/tree/deep/a/b/c; echo one > $W/tree/f1; echo two > $W/tree/sub/f2; echo three > $W/tree/deep/a/b/c/f3
echo "$MARK" > $W/tree/sub/key; chown -R 1000:1000 $W/tree
rm -f /tmp/folder.json
out=$(run --allow-read=$W --log /tmp/folder.json -- sh -c "cat $W/tree/f1 $W/tree/sub/f2 $W/tree/deep/a/b/c/f3" 2>&1)
n=$(grep -c "\"$W/tree" /tmp/folder.json)
why="out=$out; $n decisions about $W/tree in user space"; t files_below_an_allowed_folder_are_decided_in_the_kernel eval '[ "$n" = 0 ] && [ "$(echo $out)" = "one two three" ]'

rm -f /tmp/folder.json
out=$(run --allow-read --log /tmp/folder.json -- cat $W/tree/sub/f2 2>&1)
n=$(grep -c "\"$W/tree" /tmp/folder.json)
why="out=$out; $n decisions in user space"; t reads_allowed_everywhere_are_decided_in_the_kernel eval '[ "$n" = 0 ] && [ "$out" = two ]'

rm -f /tmp/folder.json
out=$(run --allow-read=$W --deny-read=$W/tree/sub/key --log /tmp/folder.json -- sh -c "cat $W/tree/f1; cat $W/tree/sub/key" 2>&1)
n=$(grep -c "\"$W/tree/f1\"" /tmp/folder.json)
why="out=$out; f1 decided $n times in user space"; t a_deny_below_an_allowed_folder_keeps_it_out_of_the_kernel eval 'has "$out" one && ! leaked && [ "$n" = 1 ]'

# Attack: move the granted folder away, move a file the rules do not let it read into it, read it there. The
# kernel's grant is for the folder's inode; a directory rename voids the grants until cordon recomputes them.
mkdir -p $W/pub $W/priv; echo public > $W/pub/p; echo "$MARK" > $W/priv/k; chown -R 1000:1000 $W/pub $W/priv
out=$(run --allow-read=$W/pub --allow-write=$W -- sh -c "cat $W/pub/p; mv $W/pub $W/pub2 && mv $W/priv/k $W/pub2/k && cat $W/pub2/k" 2>&1)
why="out=$out"; t moving_a_granted_folder_away_ends_its_grant eval 'has "$out" public && [ -f $W/pub2/k ] && ! leaked'
rm -rf $W/pub2 $W/priv

rm -f /tmp/folder.json
out=$(/opt/tests/pty_answer "wants to read" f -- "$C" run --engine lsm --no-save --prompt-timeout 10 --log /tmp/folder.json -- sh -c "cat $W/tree/f1; cat $W/tree/sub/f2; cat $W/tree/deep/a/b/c/f3" 2>&1)
n=$(grep -c "\"$W/tree" /tmp/folder.json); asked=$(printf '%s' "$out" | grep -c "wants to read")
why="$asked prompts, $n decisions in user space; screen: $(printf '%s' "$out" | tail -n 3)"
t a_folder_answered_at_the_prompt_is_decided_in_the_kernel eval '[ "$n" = 1 ] && [ "$asked" = 1 ] && has "$out" three'

# The parts every engine shares, checked under this one: exit status, secret environment, learn mode and the
# profile it writes, the denial line on stderr.
run -- sh -c 'exit 7' >/dev/null 2>&1; rc=$?
why="rc=$rc"; t exit_status_of_the_program_is_cordons [ "$rc" = 7 ]

out=$(GITHUB_TOKEN=tok-$MARK run -- sh -c 'echo "token=$GITHUB_TOKEN"' 2>&1)
why="out=$out"; t secret_environment_is_withheld eval 'has "$out" "token=" && ! leaked'

rm -f /tmp/learned.yml
"$C" run --engine lsm --learn /tmp/learned.yml -- sh -c "cat $W/a.txt > /dev/null; echo x > $W/learned.txt" >/dev/null 2>&1
out=$(run --profile /tmp/learned.yml -- sh -c "cat $W/a.txt; echo y > $W/learned.txt; cat $H/.ssh/id_rsa" 2>&1)
why="profile: $(tr '\n' ' ' < /tmp/learned.yml | cut -c1-300); out=$out"
t learn_mode_writes_a_profile_that_allows_what_it_saw eval 'has "$out" hello && [ "$(cat $W/learned.txt)" = y ] && ! leaked'

out=$(run -- cat $H/.ssh/id_rsa 2>&1 >/dev/null)
why="stderr: $out"; t a_denial_is_one_line_on_stderr eval 'has "$out" "cordon: denied" && has "$out" "$H/.ssh/id_rsa"'

nc -l -p 8080 > /tmp/received 2>/dev/null &
sleep 0.3
run -- sh -c 'echo leaked | nc 127.0.0.1 8080' >/dev/null 2>&1
sleep 0.3; kill %1 2>/dev/null; wait 2>/dev/null
why="listener got: $(cat /tmp/received)"; t connect_without_rule_is_denied sh -c "! grep -q leaked /tmp/received"

nc -l -p 8081 > /tmp/received2 2>/dev/null &
sleep 0.3
run --allow-net=127.0.0.1:8081 -- sh -c 'echo hi | nc 127.0.0.1 8081' >/dev/null 2>&1
sleep 0.3; kill %1 2>/dev/null; wait 2>/dev/null
why="listener got: $(cat /tmp/received2)"; t connect_with_rule_works grep -q hi /tmp/received2

# Prompts: a person (pty_answer) answers the real terminal prompt; the thread waits in the kernel meanwhile.
out=$(/opt/tests/pty_answer "wants to read" y -- "$C" run --engine lsm -- cat $W/a.txt 2>&1)
why="screen: $(printf '%s' "$out" | tail -n 3)"; t prompt_allow_once_lets_the_read_through eval 'has "$out" "allowed once" && has "$out" hello'

out=$(/opt/tests/pty_answer "wants to read" y -- "$C" run --engine lsm -- sh -c "cat $W/a.txt; true" 2>&1)
why="screen: $(printf '%s' "$out" | grep -A1 "by")"; t prompt_names_the_processes_it_came_through eval 'has "$out" "via" && has "$out" "sh -c cat"'

out=$(/opt/tests/pty_answer "wants to read" n -- "$C" run --engine lsm -- cat $H/.ssh/id_rsa 2>&1)
why="screen: $(printf '%s' "$out" | tail -n 3)"; t prompt_deny_keeps_the_secret eval 'has "$out" "wants to read" && ! leaked'

out=$(/opt/tests/pty_answer "wants to read" "" -- "$C" run --engine lsm -- sh -c "cat $H/.ssh/id_rsa & sleep 3; kill -9 \$!; sleep 2; echo over" 2>&1)
why="screen: $(printf '%s' "$out" | tail -n 3)"; t question_of_a_killed_thread_is_withdrawn eval 'has "$out" "denied (no answer)" && has "$out" over && ! leaked'

/opt/tests/pty_answer "wants to read" "" -- "$C" run --engine lsm -- sh -c "cat $H/.ssh/id_rsa & sleep 3; exit 3" > /tmp/exit.out 2>&1; rc=$?
why="rc=$rc screen: $(tail -n 2 /tmp/exit.out)"; t a_question_open_when_the_program_exits_does_not_hold_cordon eval '[ $rc -eq 3 ] && ! grep -q $MARK /tmp/exit.out'

out=$("$C" doctor 2>&1)
why="doctor: $(printf '%s' "$out" | grep engine)"; t doctor_says_the_lsm_engine_runs_here has "$out" "engine: lsm"

# The programs stay loaded between runs (shared by every run); "runs" holds one entry per run under way.
B=/opt/tests/bpftool
registered() { # entries in the shared "runs" map (bpftool prints a map with BTF as JSON: one "key" per entry)
  d=$(ls -d /sys/fs/bpf/cordon-lsm-* 2>/dev/null | head -n 1); [ -n "$d" ] && $B map dump pinned "$d/runs" | grep -c '"key":'; }
ids=$($B prog list | grep cordon_ | cut -d: -f1 | tr '\n' ' ')
run -- true
ids2=$($B prog list | grep cordon_ | cut -d: -f1 | tr '\n' ' ')
why="before: $ids; after: $ids2"; t a_run_uses_the_programs_an_earlier_run_loaded eval '[ -n "$ids" ] && [ "$ids" = "$ids2" ]'
once=$($B prog list | grep -c 'name cordon_file_open ')
why="$once copies of cordon_file_open, $(registered) runs registered"; t one_copy_stays_loaded_and_no_run_is_left_registered eval '[ "$once" = 1 ] && [ "$(registered)" = 0 ]'
out=$("$C" doctor 2>&1)
why="doctor: $(printf '%s' "$out" | grep "LSM programs")"; t doctor_says_the_programs_are_loaded has "$out" "LSM programs.*loaded (/sys/fs/bpf/cordon-lsm-"

# A link unpinned between runs (by root, outside any sandbox) detaches its program: the next run must not reuse the
# rest without that hook. Without the check, the read below went through undecided.
rm /sys/fs/bpf/cordon-lsm-*/cordon_file_open
out=$(run -- cat $W/a.txt 2>&1)
why="out=$out; $(ls /sys/fs/bpf/cordon-lsm-* | grep -c cordon_) pins"
t a_run_loads_again_when_a_link_was_unpinned eval '! has "$out" hello && ls /sys/fs/bpf/cordon-lsm-*/cordon_file_open >/dev/null'

# Runs at the same time share the programs, not their decisions: every key carries the run's cgroup. (Without the
# cgroup in the keys, the second run would read the file on the first run's folder grant or cached verdict.)
mkdir -p $W/shared; echo shared-file > $W/shared/f.txt; echo single-file > $W/single.txt; chown -R 1000:1000 $W
rm -f $W/first-started
run --allow-read=$W/shared,$W/single.txt --allow-write=$W -- sh -c "cat $W/shared/f.txt $W/single.txt >/dev/null && touch $W/first-started; sleep 5" >/dev/null 2>&1 &
first=$!
for i in $(seq 50); do [ -f $W/first-started ] && break; sleep 0.2; done
out=$(run -- cat $W/shared/f.txt 2>&1); rc=$?
why="first run started: $([ -f $W/first-started ] && echo yes || echo no); rc=$rc out=$out"
t a_runs_folder_grant_is_not_another_runs eval '[ -f $W/first-started ] && [ $rc -ne 0 ] && ! has "$out" shared-file'
out=$(run -- cat $W/single.txt 2>&1); rc=$?
why="rc=$rc out=$out"; t a_runs_cached_verdict_is_not_another_runs eval '[ $rc -ne 0 ] && ! has "$out" single-file'
wait $first

# Another build's programs (another object hash) stay while a run with a live cgroup is registered in them, and go
# after that. The older build is faked: a pinned "runs" map in its own directory, with a running run's cgroup in it.
# (It is made once that run is under way: a run that starts removes every other build no live run is in.)
old=/sys/fs/bpf/cordon-lsm-0000000000000000
rm -f $W/o-started
run --allow-write=$W -- sh -c "touch $W/o-started; sleep 5" >/dev/null 2>&1 &
busy=$!
for i in $(seq 50); do [ -f $W/o-started ] && break; sleep 0.2; done
mkdir -p $old && $B map create $old/runs type hash key 8 value 8 entries 4 name runs
id=$(stat -c %i "$(ls -d /sys/fs/cgroup/cordon-* | head -n 1)")
key=$(printf '%016x' "$id" | awk '{ for (i = 8; i >= 1; i--) printf "%s ", substr($0, i * 2 - 1, 2) }')
$B map update pinned $old/runs key hex $key value hex 00 00 00 00 00 00 00 00
run -- true
why="$(ls /sys/fs/bpf)"; t another_builds_programs_stay_while_a_live_run_uses_them [ -e $old ]
wait $busy
run -- true
why="$(ls /sys/fs/bpf)"; t another_builds_programs_go_when_no_live_run_uses_them [ ! -e $old ]

# cordon killed mid-run: its run stays registered, so its processes stay in a sandbox whose every question is
# denied (the helper is gone); the next run kills what is left and removes the entry.
rm -f $W/started
sh -c 'echo $$ > /tmp/c2.pid; exec '"$C"' run --engine lsm --no-prompt --allow-write='"$W"' -- sh -c "touch '"$W"'/started; sleep 4; cat '"$H"'/.ssh/id_rsa; echo after"' > /tmp/crash.out 2>&1 &
for i in $(seq 50); do [ -f $W/started ] && break; sleep 0.2; done
dead=$(cat /tmp/c2.pid); kill -9 "$dead"; sleep 6
why="output: $(cat /tmp/crash.out)"; t killing_cordon_gives_the_program_no_access eval '! grep -q $MARK /tmp/crash.out'
n=$(registered)
why="$n runs registered"; t killing_cordon_leaves_its_run_registered [ "$n" = 1 ]
run -- true
n=$(registered); cg=$(ls /sys/fs/cgroup | grep -c "^cordon-$dead$")
rd=$(ls /run | grep -c "^cordon-$dead$")
why="$n runs registered, $cg cgroups, $rd run directories left"; t the_next_run_removes_what_a_dead_run_left eval '[ "$n" = 0 ] && [ "$cg" = 0 ] && [ "$rd" = 0 ]'

# The escape suite (tests/escape/escape.c) against this engine: every attack that applies to it. Each must report
# "stopped:" and the secret must appear nowhere. (io_uring, x32, int 0x80, a second seccomp listener and clone3
# are seccomp-engine matters: here io_uring is decided like any open, see above.)
mkdir -p $W/mnt; echo harmless > $W/allowed.txt; chown -R 1000:1000 $W
attack() { # NAME ARGS...: one attack as the sudo user, only the work folder granted
  name="$1"; shift; echo "# $(cut -d" " -f1 /proc/uptime) s: $name"
  out=$(run --allow-read=$W --allow-write=$W -- /opt/tests/escape "$@" 2>&1)
  why="$(printf '%s' "$out" | tail -n 2)"; t "escape_$name" eval 'has "$out" "stopped:" && ! leaked'
}
attack read read $H/.ssh/id_rsa
attack symlink symlink $H/.ssh/id_rsa $W/elink
attack hardlink hardlink $H/.ssh/id_rsa $W/ehard
attack rename rename $H/.ssh/id_rsa $W/emoved
attack proc_root proc-root $H/.ssh/id_rsa
attack opath_reopen opath-reopen $H/.ssh/id_rsa
attack dirfd dirfd $H/.ssh id_rsa
attack openat2 openat2 $H/.ssh/id_rsa
attack swap_race swap-race $W/allowed.txt $H/.ssh/id_rsa $MARK 2000
attack shm_swap shm-swap $W/allowed.txt $H/.ssh/id_rsa $MARK 2000
attack supervisor supervisor grandparent
attack bashrc write $H/.bashrc
attack bind_mount bind-mount $H/.ssh $W/mnt
t escape_bashrc_unchanged sh -c "! grep -q pwned $H/.bashrc"

# tests/escape/reach.c: the reaper (the program's parent, holding cordon's control socket) and other processes, with
# all of /proc granted and a secret in cordon's environment that cordon withholds; and privilege left behind.
reach() { # NAME ARGS...
  name="$1"; shift; echo "# $(cut -d" " -f1 /proc/uptime) s: $name"
  out=$(DEPLOY_TOKEN=$MARK run --allow-read=$W --allow-write=$W --allow-read=/proc -- /opt/tests/reach "$@" 2>&1)
  why="$(printf '%s' "$out" | tail -n 2)"; t "escape_$name" eval 'has "$out" "stopped:" && ! leaked'
}
for e in environ mem maps fd cwd root; do reach reaper_proc_$e proc parent $e; done
reach reaper_vm_read vm-read parent
reach reaper_attach attach parent
reach reaper_getfd getfd parent 3
for sig in STOP KILL TERM; do reach reaper_signal_$sig signal parent $sig; done
for how in prlimit nice affinity ioprio; do reach reaper_limits_$how limits parent $how; done
reach user_priorities limits 0 nice-user
reach setuid_chmod privilege setuid-chmod $W/tool
reach setgid_chmod privilege setgid-chmod $W/tool
reach setuid_create privilege setuid-create $W/tool2
reach fanotify fanotify $H

# A granted script cannot choose an interpreter no rule allows (issue 17.2): the kernel's exec hook meets the
# interpreter as a program of its own. And a script cannot plant code that the user's git runs later (17.3).
mkdir -p $H/bin; cp /bin/busybox $H/bin/busybox
printf '#!%s sh\necho interpreter-ran\n' $H/bin/busybox > $W/script.sh; chmod 755 $W/script.sh
mkdir -p $W/repo/.git/hooks; printf '[core]\n' > $W/repo/.git/config; chown -R 1000:1000 $H
out=$(run --allow-read=$W --allow-write=$W --allow-run=$W/script.sh -- $W/script.sh 2>&1)
why="out=$out"; t escape_interpreter_outside_the_granted_programs eval '! has "$out" interpreter-ran'
out=$(run --allow-read=$W --allow-write=$W -- sh -c "echo 'touch /tmp/pwned' > $W/repo/.git/hooks/pre-commit; chmod +x $W/repo/.git/hooks/pre-commit; printf '[core]\n\tfsmonitor = touch /tmp/pwned\n' >> $W/repo/.git/config" 2>&1)
why="out=$out; hook: $(ls -l $W/repo/.git/hooks 2>&1); config: $(cat $W/repo/.git/config)"
# (A denied create leaves an empty file under this engine, README Limits: the hook must be empty and not executable.)
t escape_git_hook_and_config_planted_in_a_granted_folder eval '[ ! -s $W/repo/.git/hooks/pre-commit ] && [ ! -x $W/repo/.git/hooks/pre-commit ] && ! grep -q fsmonitor $W/repo/.git/config'
out=$(sh -c "umask 027; exec $C run --engine lsm --no-prompt --allow-read=$W --allow-write=$W -- touch $W/umask-f" 2>&1)
why="out=$out mode=$(stat -c %a $W/umask-f 2>&1)"; t the_program_gets_cordons_umask [ "$(stat -c %a $W/umask-f 2>/dev/null)" = 640 ]
out=$(run --allow-read=$W --allow-write=$W -- sh -c "cat $W/allowed.txt >/dev/null && ln $W/allowed.txt $W/second && cat $W/second" 2>&1)
why="out=$out"; t hard_link_of_a_file_the_run_may_read_works [ "$out" = harmless ]

# Attacks by a root program (no SUDO_UID: cordon runs it as root). Without the hooks each of these would work.
unset SUDO_UID SUDO_GID
out=$(run -A -- /opt/tests/bpftool prog list 2>&1); rc=$?
why="rc=$rc out=$(echo "$out" | head -2)"; t root_program_cannot_use_bpf eval '[ $rc -ne 0 ] && ! has "$out" cordon_file_open' 

# The programs stay loaded between runs, pinned in the BPF file system: unlinking the pins or unmounting it would
# detach them if nothing else held them (each run holds its links, and nothing inside may write there or unmount).
out=$(run -A --deny-read=$H/.ssh -- sh -c "rm -f /sys/fs/bpf/cordon-lsm-*/cordon_file_open; cat $H/.ssh/id_rsa" 2>&1)
why="out=$out; $(ls /sys/fs/bpf/cordon-lsm-* | grep -c cordon_) pins left"
t root_program_cannot_unpin_the_programs eval '! leaked && ls /sys/fs/bpf/cordon-lsm-*/cordon_file_open >/dev/null'
out=$(run -A --deny-read=$H/.ssh -- sh -c "umount -l /sys/fs/bpf; cat $H/.ssh/id_rsa" 2>&1)
why="out=$out"; t root_program_cannot_unmount_the_bpf_file_system eval '! leaked && grep -q " /sys/fs/bpf " /proc/self/mountinfo'

sh -c 'echo $$ > /tmp/cordon.pid; exec '"$C"' run --engine lsm --no-prompt -A -- sh -c "kill -9 \$(cat /tmp/cordon.pid); sleep 1; echo survived"' > /tmp/kill.out 2>&1
why="output: $(cat /tmp/kill.out)"; t root_program_cannot_kill_cordon grep -q survived /tmp/kill.out

out=$(run -A --deny-read=$H/.ssh -- sh -c "echo \$\$ > /sys/fs/cgroup/cgroup.procs; cat $H/.ssh/id_rsa" 2>&1)
why="out=$out"; t root_program_cannot_leave_the_cgroup_through_cgroup_procs eval '! leaked'

out=$(run --allow-read=$W --allow-write=$W -- /opt/tests/escape bind-mount $H/.ssh $W/mnt 2>&1)
why="out=$out"; t root_program_cannot_bind_the_secret_over_an_allowed_folder eval 'has "$out" "stopped:" && ! leaked'

out=$(run -A --deny-read=$H/.ssh $T -- /opt/tests/clone_into_cgroup /sys/fs/cgroup /bin/cat $H/.ssh/id_rsa 2>&1)
why="out=$out"; t root_program_cannot_leave_the_cgroup_through_clone3 eval '! leaked' 

# A root program keeps only the capabilities cordon lists (RootCapabilities.cs): no CAP_NET_ADMIN, CAP_SYS_ADMIN,
# CAP_MKNOD, CAP_SETFCAP; and it leaves no setuid file, device or file of another user behind.
out=$(run -A -- grep CapEff /proc/self/status 2>&1)
why="out=$out"; t root_program_keeps_only_the_listed_capabilities has "$out" "00000000200024fb"
out=$(run -A -- sh -c 'ip link add cordon0 type dummy' 2>&1); rc=$?
why="rc=$rc out=$out"; t root_program_cannot_add_links eval '[ $rc -ne 0 ] && ! ip link show cordon0 >/dev/null 2>&1'
for how in setuid-chmod setuid-create setcap mknod chown-other; do reach root_$how privilege $how $W/root-tool; done
reach root_fanotify fanotify $H
reach root_tioccons tioccons

# cordon unload: refused while a run is under way (its sandbox would be left unwatched), then detaches everything.
rm -f $W/u-started
run --allow-write=$W -- sh -c "touch $W/u-started; sleep 4" >/dev/null 2>&1 &
busy=$!
for i in $(seq 50); do [ -f $W/u-started ] && break; sleep 0.2; done
out=$("$C" unload 2>&1); rc=$?
why="rc=$rc out=$out"; t unload_is_refused_while_a_run_is_under_way eval '[ $rc = 1 ] && has "$out" "cordon-[0-9]* uses the LSM engine.*when that run has ended"'
wait $busy
out=$("$C" unload 2>&1); rc=$?
for i in $(seq 40); do progs=$($B prog list | grep -c cordon_); [ "$progs" = 0 ] && break; sleep 0.5; done
why="rc=$rc out=$out; $progs programs still loaded; $(ls /sys/fs/bpf)"
t unload_detaches_every_program eval '[ $rc = 0 ] && [ "$progs" = 0 ] && ! ls /sys/fs/bpf | grep -q cordon'
out=$("$C" unload 2>&1); rc=$?
why="rc=$rc out=$out"; t unload_with_nothing_loaded_says_so eval '[ $rc = 0 ] && has "$out" "not loaded"'
# doctor decides from a real load: with nothing loaded it loads and verifies the programs, then releases them.
out=$("$C" doctor 2>&1)
for i in $(seq 40); do progs=$($B prog list | grep -c cordon_); [ "$progs" = 0 ] && break; sleep 0.5; done
why="doctor: $(printf '%s' "$out" | grep -E 'LSM programs|engine'); $progs programs loaded after it"
t doctor_loads_the_programs_for_real_and_leaves_nothing_loaded eval 'has "$out" "LSM programs: the kernel loads and verifies them" && has "$out" "engine: lsm" && [ "$progs" = 0 ] && ! ls /sys/fs/bpf | grep -q cordon'
out=$(run -- cat $W/a.txt 2>&1)
why="out=$out"; t a_run_after_unload_loads_them_again_and_decides eval '! has "$out" hello && [ "$($B prog list | grep -c "name cordon_file_open ")" = 1 ]'

echo "done"
