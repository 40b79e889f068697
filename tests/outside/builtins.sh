# busybox sh on its own: no fork, no files. Variables, arithmetic,
# parameter expansion, loops, case, printf and test.
set -u
n=0
i=1
while [ $i -le 10 ]; do n=$((n + i * i)); i=$((i + 1)); done
echo "sum of squares: $n"
s="hello, mercator"
echo "${#s} ${s%,*} ${s#*, } ${s/mercator/world}"
for w in alpha beta gamma; do
  case $w in
    a*) printf '%s starts with a\n' "$w" ;;
    *m*) printf '%-6s|%4d\n' "$w" ${#w} ;;
    *) echo "other $w" ;;
  esac
done
printf '%x %o %05.1f %s\n' 255 8 3.14159 nested
[ -n "$s" ] && [ ! -z "$s" ] && echo "test works"
set -- a "b c" d
echo "$# args: $2"
shift; echo "after shift: $*"
exit 7
