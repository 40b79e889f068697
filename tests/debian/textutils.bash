# Debian's grep, sed, gawk, findutils, tar with gzip and diff, run by
# Debian's bash on Linux and on Mercator: same output.
# with: /bin/sh echo mktemp mkdir seq cat sort uniq touch grep sed gawk find xargs tar gzip diff cmp rm ls wc head tail
set -u
export LC_ALL=C TZ=UTC PATH=/usr/bin:/bin
work=$(mktemp -d) && cd "$work" || exit 1
trap 'cd / && rm -rf "$work"' EXIT
for i in $(seq 1 40); do echo "line $i: the value is $((i * i % 17))"; done > text
printf 'alpha 3\nbeta 1\ngamma 2\ndelta 3\n' > table
echo "== grep"
grep -c 'value is 1' text
grep -E '^line (7|17|27):' text
grep -n -w 'beta' table
grep -v -e alpha -e gamma table
grep -o '[0-9]*$' text | sort -n | uniq -c | head -5
grep -q nothing text; echo "absent $?"
grep -r -l value . 
echo "== sed"
sed -n '3,5p' text
sed -e 's/line \([0-9]*\)/L\1/' -e '/value is 0/d' text | head -4
sed -i.bak 's/alpha/ALPHA/' table && cat table && cat table.bak | head -1
echo "== gawk"
gawk '{ sum[$2] += 1; total += $2 } END { for (k in sum) print k, sum[k] | "sort"; close("sort"); print "total", total }' table
gawk -F': ' '{ split($2, w, " "); n[w[4]]++ } END { PROCINFO["sorted_in"] = "@ind_num_asc"; for (v in n) printf "%s:%d ", v, n[v]; print "" }' text
gawk 'BEGIN { printf "%.5f %d %s\n", atan2(0, -1), 2^40, toupper(substr("mercator", 1, 4)) }'
echo "== find, xargs"
mkdir -p tree/x/y tree/z
for f in tree/a.c tree/x/b.c tree/x/y/c.h tree/z/d.c; do echo "int $f;" > "$f"; done
find tree -name '*.c' | sort
find tree -type d | sort
touch -d 2000-01-01 old
find tree -type f -newer old -name '*.h'
find tree -type f -print0 | sort -z | xargs -0 cat
find tree -name '*.c' | sort | xargs -n 2 echo pair
echo "== tar, gzip"
touch -d '2021-01-01 00:00' $(find tree)
tar -czf tree.tgz tree
gzip -t tree.tgz && echo "gzip ok"
tar -tzvf tree.tgz --numeric-owner | gawk '{print $1, $3, $6}' | sort -k3
mkdir out && tar -xzf tree.tgz -C out
diff -r tree out/tree && echo "same tree"
seq 1 20000 | gzip -9 > nums.gz
gzip -l nums.gz | tail -1 | gawk '{print $2}'
gzip -dc nums.gz | tail -1
echo "== diff"
seq 1 10 > one
seq 1 10 | sed -e 's/^5$/five/' -e '/^8$/d' > two
diff one two; echo "diff status $?"
diff -u one two | tail -n +3
cmp one one && echo "cmp same"
cmp one two; echo "cmp status $?"
echo done
