# busybox's file applets on a tmpfs directory, as on Linux: ls, cat, sort
# -o, cp, mv, ln -s, stat, touch, wc, find, rm -r, mkdir -p, rmdir, tar,
# gzip, head, chmod, dd, du, df.
set -u
d=/tmp/outside-files.$$
bb=$(readlink /proc/$$/exe)
mkdir -p $d/bin $d/a/b/c && cd $d || exit 1
for a in cat sort cp mv ln stat touch wc find rm rmdir tar gzip head chmod \
         dd cut readlink ls mkdir du df; do
  ln -s "$bb" bin/$a
done
PATH=$d/bin
echo hello > f
printf 'line %d\n' 3 1 2 > lines
ls
ls -a a
cat f lines
sort lines
sort -o sorted lines && cat sorted
cp f g && cat g
mv g h && ls
ln -s f link && readlink link && cat link
ln f hard && stat -c '%n %s %h %F %a' f hard link
touch -d '2001-02-03 04:05:06' f && stat -c '%n %y' f | cut -c1-21
wc -c f lines
find . -name '*' -type f | sort
find . -type d | sort
rm -r a && ls
mkdir -p x/y && rmdir x/y x && ls
tar cf t.tar f lines && rm f lines && tar xf t.tar && cat f lines
gzip -c lines > lines.gz && gzip -dc lines.gz
head -c 3 f; echo
chmod 600 f && stat -c '%a' f
[ -e nope ] || echo "nope is missing"
dd if=/dev/zero bs=512 count=3 2>/dev/null | wc -c
dd if=/dev/zero of=big bs=4096 count=3 2>/dev/null && du -k big
cd / && rm -r $d && echo done
