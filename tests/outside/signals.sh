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
sleep 5 & p=$!; kill $p; wait $p; echo "wait on killed job: $?"
trap - USR1
sh -c 'trap "echo child got HUP; exit 2" HUP; kill -HUP $$; sleep 1'; echo "child with a trap: $?"
timeout 1 sleep 3; echo "timeout status: $?"
rm -rf $bb
