# busybox sh's process model: pipelines, subshells, command substitution,
# background jobs and wait, exit statuses.
echo one two three | tr ' ' '\n' | sort -r | head -n 2
x=$(echo inner | tr a-z A-Z); echo "substituted: $x"
(exit 3); echo "subshell status: $?"
( cd / && pwd ); echo "still in the same place: $([ "$PWD" = "$(pwd)" ] && echo yes)"
false | true; echo "pipeline status: $?"
sleep 0 & wait $!; echo "background job status: $?"
(exit 5) & wait $!; echo "background exit: $?"
{ for n in 1 2 3 4; do ( echo "job $n" ) & done; wait; } | sort; echo "all jobs done"
echo $(( $(echo 6) * 7 ))
f() { echo "in function: $1"; return 4; }; f arg; echo "function status: $?"
sh -c 'exit 9'; echo "child shell: $?"
echo done
