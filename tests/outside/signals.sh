# busybox sh's traps and kill: handlers run, statuses report signals.
# Applets that exec others (timeout) find them on PATH: install busybox's
# links in a private directory first.
bb=/tmp/bb.$$; mkdir -p $bb && ln -s "$(readlink /proc/$$/exe)" $bb/busybox &&
  $bb/busybox --install -s $bb
export PATH=$bb:$PATH
trap 'echo got USR1' USR1
kill -USR1 $$
echo after kill
trap 'echo exiting' EXIT
sh -c 'kill -TERM $$'; echo "killed child status: $?"
# Whether the shell says "Terminated" for a background job depends on who
# reaps it first: `wait` (it prints) or the shell's own look for dead
# children between commands (it does not), a race with more than one CPU
# (the job dies on another CPU at once). The status is what counts.
sleep 5 & p=$!; kill $p; wait $p 2>/dev/null; echo "wait on killed job: $?"
trap - USR1
sh -c 'trap "echo child got HUP; exit 2" HUP; kill -HUP $$; sleep 1'; echo "child with a trap: $?"
timeout 1 sleep 3; echo "timeout status: $?"
rm -rf $bb
