# Debian's coreutils, run by Debian's bash (both dynamically linked, from
# this machine's /usr/bin), on Linux and on Mercator: same output.
# with: mktemp touch ls sort cp mv du df stat sha256sum cat mkdir rm seq wc head tail tr ln chmod uniq cut
set -u
export LC_ALL=C TZ=UTC PATH=/usr/bin:/bin
work=$(mktemp -d) && cd "$work" || exit 1
trap 'cd / && rm -rf "$work"' EXIT
echo "== files"
seq 1 3000 > nums
sort -rn nums | head -3
sort nums | tail -2
printf 'pear\napple\nfig\napple\n' > fruit
sort fruit | uniq -c
sort -u fruit | tr a-z A-Z
mkdir -p a/b/c
cp nums a/b/copy
cp -r a d
mv d/b/copy d/b/moved
ln -s ../nums a/link
chmod 640 a/b/copy
touch -d '2020-02-03 04:05:06' a a/b a/b/c a/b/copy a/link -h fruit nums
# files only: a directory's size and "total" are the file system's own
ls -l -g -o --time-style=+%F_%T fruit nums a/link a/b/copy
ls -l -g -o -d --time-style=+%F_%T a a/b | cut -d' ' -f1,2
ls -R d | head -20
echo "== stat"
stat -c '%n %s %a %F' nums a/b/copy a/link
stat -c '%n %a %F %h' a a/b/c
stat -L -c '%n %s %F' a/link
echo "== du"
du --apparent-size -b nums d/b/moved
du --inodes -a d | sort -k2
du --inodes -s a
echo "== df"
df -P . | tail -1 | wc -w
echo "== sha256sum"
sha256sum nums fruit d/b/moved
sha256sum nums fruit > sums
sha256sum -c sums
echo "== cut, wc"
cut -c1-2 fruit | sort | uniq
wc -l -c nums fruit
echo "== rm"
rm -r a d
ls
echo "== bash"
declare -A count
for f in $(cat fruit); do count[$f]=$(( ${count[$f]:-0} + 1 )); done
for k in $(printf '%s\n' "${!count[@]}" | sort); do echo "$k=${count[$k]}"; done
arr=(one two three)
echo "${#arr[@]} ${arr[1]^^} ${arr[*]:1}"
f() { local x=$1; echo $(( x * x )); }
echo "squares: $(f 7) $(f 12)"
read -r first rest <<< "alpha beta gamma"
echo "$first/$rest"
while read -r n; do sum=$(( ${sum:-0} + n )); done < nums
echo "sum $sum"
diffcount=$(sort fruit | uniq | wc -l); echo "distinct $diffcount"
( exit 3 ); echo "subshell status $?"
echo "pipeline: $(seq 1 100 | tail -1)"
echo done
